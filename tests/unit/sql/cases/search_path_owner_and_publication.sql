-- After SET search_path TO app, public, a bare routine's OWNER TO and a bare table added to or
-- dropped from a publication are the objects the path finds (public's), in the undo and in
-- the history. Before, the undo named app.f() and app.t (which do not exist: the rollback
-- failed, or reached another table of that name).
-- history
create schema app;
create table public.t (id int primary key);
create table public.u (id int primary key);
create function public.f() returns int language sql as 'select 1';
alter function public.f() owner to supabase_admin;
create publication pub for table public.u;
-- forward
set search_path to app, public;
alter function f() owner to postgres;
alter publication pub add table t;
alter publication pub drop table u;
-- rollback
ALTER PUBLICATION pub ADD TABLE public.u;
ALTER PUBLICATION pub DROP TABLE public.t;
ALTER FUNCTION public.f() OWNER TO supabase_admin;
