-- history
create schema app;
create role r;
create table public.t (id int);
create table public.h (id int);
create table app.u (id int);
create function public.f(a int) returns int language sql as $$ select a $$;
set search_path to app, public;
grant select on h to r;
-- forward
set search_path to app, public;
grant select, insert on t, u to r;
grant execute on function f(int) to r;
revoke select on h from r;
-- rollback
GRANT SELECT ON TABLE public.h TO r;
REVOKE EXECUTE ON FUNCTION public.f (integer) FROM r;
REVOKE SELECT, INSERT ON TABLE public.t, app.u FROM r;
