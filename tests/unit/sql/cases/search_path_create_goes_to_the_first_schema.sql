-- history
create schema app;
create table public.t (id int);
-- forward
set search_path to app, public;
alter table t add column before_made int;
create table t (x int);
alter table t add column e int;
alter table public.t add column f int;
-- rollback
ALTER TABLE public.t DROP COLUMN IF EXISTS f;
ALTER TABLE app.t DROP COLUMN IF EXISTS e;
DROP TABLE IF EXISTS app.t;
ALTER TABLE public.t DROP COLUMN IF EXISTS before_made;
