-- history
create schema app;
create table public.t (id int);
select set_config('search_path', 'app, public', false);
alter table t add column c int default 1;
-- forward
select set_config('search_path', 'App, public', false);
alter table t alter column c set default 2;
alter table t add column d int;
create table n (a int);
-- rollback
DROP TABLE IF EXISTS app.n;
ALTER TABLE public.t DROP COLUMN IF EXISTS d;
ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 1;
