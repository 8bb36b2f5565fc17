-- A definition an earlier migration wrote under another search_path is not re-run as written:
-- its unqualified names would go to the rollback's search_path (the function came back in
-- public). Recreating it is by hand; one written under the default is restored.
-- history
create schema app;
set search_path = app;
create function f() returns int language sql as $$select 1$$;
create view v as select 1 as a;
set search_path = public;
create function public.g() returns int language sql as $$select 1$$;
-- forward
drop function app.f();
drop view app.v;
drop function public.g();
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
create function public.g() returns int language sql as $$select 1$$;
