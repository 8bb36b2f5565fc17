-- history
create schema app;
create table public.t (id int, c int default 3);
create function public.f(a int) returns int language sql as $$ select a $$;
create function public.g() returns int language sql as $$ select 1 $$;
-- forward
set search_path to app, public;
alter table t alter column c set default 5;
alter table t add column d int;
alter function f(int) security definer;
drop function g();
-- rollback
create function public.g() returns int language sql as $$ select 1 $$;
ALTER FUNCTION public.f(integer) SECURITY INVOKER;
ALTER TABLE public.t DROP COLUMN IF EXISTS d;
ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 3;
