-- history
create schema app;
create table public.t (id int, c int);
create table public.u (id int);
create view public.v as select 1 as x;
create sequence public.sq;
create function public.f(a int) returns int language sql as $$ select a $$;
create function public.tf() returns trigger language plpgsql as $$ begin return null; end $$;
create trigger tr after insert on public.u for each row execute function public.tf();
-- forward
set search_path to app, public;
alter table t rename column c to c2;
alter table t rename to t2;
alter view v rename to v2;
alter sequence sq rename to sq2;
alter function f(int) rename to f2;
alter trigger tr on u rename to tr2;
-- rollback
ALTER TRIGGER tr2 ON public.u RENAME TO tr;
ALTER FUNCTION public.f2(integer) RENAME TO f;
ALTER SEQUENCE IF EXISTS public.sq2 RENAME TO sq;
ALTER VIEW IF EXISTS public.v2 RENAME TO v;
ALTER TABLE IF EXISTS public.t2 RENAME TO t;
ALTER TABLE public.t RENAME COLUMN c2 TO c;
