-- forward
grant select, insert on table public.t to authenticated;
revoke delete on public.t from anon;
grant usage on schema api to anon;
grant execute on function public.f(int) to service_role;
-- manual
PRIOR_PRIVILEGES
-- rollback
REVOKE EXECUTE ON FUNCTION public.f(integer) FROM service_role;
REVOKE USAGE ON SCHEMA api FROM anon;
REVOKE SELECT, INSERT ON TABLE public.t FROM authenticated;
