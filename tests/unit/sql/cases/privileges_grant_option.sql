-- history
create table public.t (a int);
create table private.u (a int);
-- forward
-- the platform gave authenticated ALL on t already: only the option is new
grant select on public.t to authenticated with grant option;
grant select on private.u to authenticated with grant option;
alter default privileges in schema public grant select on tables to anon with grant option;
-- rollback
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE GRANT OPTION FOR SELECT ON TABLES FROM anon;
REVOKE SELECT ON TABLE private.u FROM authenticated;
REVOKE GRANT OPTION FOR SELECT ON TABLE public.t FROM authenticated;
