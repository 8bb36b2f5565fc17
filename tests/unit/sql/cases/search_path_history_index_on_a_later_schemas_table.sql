-- history
create schema app;
create table public.t (id int, a int);
set search_path to app, public;
create index on t (a);
-- forward
create index on public.t (a);
-- rollback
DROP INDEX IF EXISTS public.t_a_idx1;
