-- history
create function public.f() returns int language sql as 'select 1';
create function public.g() returns int language sql as 'select 1';
revoke execute on all functions in schema public from anon;
create schema api;
create schema app;
create table app.t (a int);
create table app.u (a int);
grant select on app.u to reader;
-- forward
-- ON ALL FUNCTIONS IN SCHEMA reached f and g: anon no longer had EXECUTE on them
revoke execute on function public.f() from anon, authenticated;
grant execute on function public.g() to anon;
-- a schema the migrations made gave no one but its owner anything
revoke usage on schema api from anon;
grant usage on schema api to authenticated;
-- ON ALL TABLES IN SCHEMA reaches tables that held it already (the platform's default
-- privileges in public, an earlier GRANT on app.u): which lacked it, only a human knows
grant select on all tables in schema public to anon;
grant select on all tables in schema app to reader;
grant select on all tables in schema app to writer;
-- this migration's GRANT gave it on each: given back
revoke select on all tables in schema app from writer;
-- manual
PRIOR_PRIVILEGES
PRIOR_PRIVILEGES
-- rollback
GRANT SELECT ON ALL TABLES IN SCHEMA app TO writer;
REVOKE SELECT ON ALL TABLES IN SCHEMA app FROM writer;
REVOKE USAGE ON SCHEMA api FROM authenticated;
REVOKE EXECUTE ON FUNCTION public.g() FROM anon;
GRANT EXECUTE ON FUNCTION public.f() TO authenticated;
