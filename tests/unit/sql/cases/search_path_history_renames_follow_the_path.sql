-- history
create schema app;
create table public.t (id int, c int default 3);
set search_path to app, public;
alter table t rename to t2;
-- forward
alter table public.t2 alter column c set default 4;
-- rollback
ALTER TABLE public.t2 ALTER COLUMN c SET DEFAULT 3;
