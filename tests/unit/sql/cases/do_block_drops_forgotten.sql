-- What a DO block's code drops (written out, or EXECUTE of a string constant, in an IF too)
-- is gone to the history: a later DROP is not undone from the earlier text (the object did
-- not stand so before it), and a later CREATE OR REPLACE of a view the block dropped is new.
-- A policy the block makes where none stood (after its own DROP here) is learned from the
-- block's text; a view it replaces stands, its definition unknown: its DROP is for a human.
-- A block that only drops policies earlier migrations defined is undone by making them again
-- (after DROP ... IF EXISTS: an IF or EXCEPTION may have kept one).
-- history
create table public.t (id int);
create policy p on public.t for select using (true);
create policy q on public.t for select using (true);
create policy r on public.t for select using (true);
create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tg before insert on public.t for each row execute function public.f();
create view public.v as select 1 as a;
create view public.w as select 1 as a;
do $$ begin
  drop policy if exists p on public.t;
  if true then execute 'drop trigger if exists tg on public.t'; end if;
  drop view if exists public.v;
  drop policy q on public.t;
  create policy q on public.t for select using (id > 0);
  create or replace view public.w as select 2 as a;
end $$;
-- forward
drop policy if exists p on public.t;
drop policy q on public.t;
drop trigger if exists tg on public.t;
create or replace view public.v as select 2 as a;
drop view public.w;
do $$ begin drop policy if exists r on public.t; end $$;
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
DROP POLICY IF EXISTS r ON public.t;
create policy r on public.t for select using (true);
DROP VIEW IF EXISTS public.v;
create policy q on public.t for select using (id > 0);
