-- history
create schema app;
create schema other;
create table public.t (id int);
create function public.f(a int) returns int language sql as $$ select a $$;
-- forward
set search_path to app, public;
alter table t set schema other;
alter function f(int) set schema other;
-- rollback
ALTER FUNCTION other.f(integer) SET SCHEMA public;
ALTER TABLE IF EXISTS other.t SET SCHEMA public;
