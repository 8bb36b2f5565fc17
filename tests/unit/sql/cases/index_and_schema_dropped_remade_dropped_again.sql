-- history
create table public.t (a int, b int);
create index t_i on public.t (a);
create schema reports;
-- forward
drop index public.t_i;
create index t_i on public.t (b);
drop index if exists public.t_i;
drop schema reports;
create schema reports;
drop schema if exists reports;
-- rollback
create schema reports;
DROP SCHEMA IF EXISTS reports;
create schema reports;
create index t_i on public.t (b);
DROP INDEX IF EXISTS public.t_i;
create index t_i on public.t (a);
