-- history
create schema private;
alter default privileges in schema private grant execute on functions to service_role;
alter default privileges revoke execute on functions from public;
create function private.g() returns int language sql as 'select 1';
create function public.h() returns int language sql as 'select 1';
-- forward
-- ALTER DEFAULT PRIVILEGES changed what a routine is made with (before or after g and h were
-- made: the history does not keep when): service_role's and PUBLIC's EXECUTE are unknown;
-- anon never got any in private, the platform's default gave it in public
revoke execute on function private.g() from service_role, anon;
revoke execute on function public.h() from public, anon;
-- manual
PRIOR_PRIVILEGES
PRIOR_PRIVILEGES
-- rollback
GRANT EXECUTE ON FUNCTION public.h() TO anon;
