-- history
create schema app;
create table public.t (id int);
-- forward
set search_path to "$user", public;
create table n (a int);
alter table t add column d int;
-- rollback
ALTER TABLE public.t DROP COLUMN IF EXISTS d;
DROP TABLE IF EXISTS public.n;
