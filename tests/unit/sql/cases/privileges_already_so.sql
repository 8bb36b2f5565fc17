-- history
create function public.f(a int) returns int language sql as 'select 1';
revoke execute on function public.f(int) from public, anon;
grant execute on function public.f(int) to authenticated, service_role, supabase_auth_admin;
create function private.g() returns int language sql as 'select 1';
create function public.h(a public.kind) returns int language sql as 'select 1';
-- forward
-- irontracks, hivecom: said again, these changed nothing; their flips would open f to PUBLIC
create or replace function public.f(a int) returns int language sql as 'select 2';
revoke execute on function public.f(int) from public, anon;
grant execute on function public.f(int) to authenticated, service_role;
grant execute on function public.f to supabase_auth_admin;
-- in private the platform gives anon and authenticated nothing: only PUBLIC had it
revoke execute on function private.g() from public, anon, authenticated;
-- Rond45: the platform's default privileges gave it, the type named without its schema
grant execute on function public.h(kind) to authenticated;
-- rollback
GRANT EXECUTE ON FUNCTION private.g() TO PUBLIC;
CREATE OR REPLACE FUNCTION public.f(a int) RETURNS int LANGUAGE sql AS 'select 1';
