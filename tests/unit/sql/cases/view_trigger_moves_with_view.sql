-- history
create table public.c (id int primary key);
create function public.ins() returns trigger language plpgsql as $$ begin return new; end $$;
create view public.cv as select c.* from public.c;
create trigger cv_ins instead of insert on public.cv for each row execute function public.ins();
-- forward
alter table public.c add column s text;
drop view if exists public.cv;
-- rollback
ALTER TABLE public.c DROP COLUMN IF EXISTS s;
create view public.cv as select c.* from public.c;
create trigger cv_ins instead of insert on public.cv for each row execute function public.ins();
