-- history
create type public.perm as enum ('a', 'b');
create table public.t (id int, p public.perm, n int);
create function public.auth(x public.perm) returns bool language sql as $$ select true $$;
create policy "by perm" on public.t for select using (public.auth('a'::public.perm));
create policy "by id" on public.t for select using (id > 0);
create view public.v as select id from public.t where public.auth('b');
drop type public.perm cascade;
-- forward
drop policy if exists "by perm" on public.t;
drop policy if exists "by id" on public.t;
drop view if exists public.v;
alter table public.t add column if not exists p int;
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
ALTER TABLE public.t DROP COLUMN IF EXISTS p;
create policy "by id" on public.t for select using (id > 0);
