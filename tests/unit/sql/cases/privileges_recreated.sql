-- history
create function public.f() returns int language sql as 'select 1';
revoke all on function public.f() from public;
drop function public.f();
create function public.f() returns int language sql as 'select 2';
-- forward
-- made anew, f held PUBLIC's EXECUTE again: the earlier REVOKE no longer says
revoke all on function public.f() from public;
revoke all on function public.unknown() from public;
-- manual
PRIOR_PRIVILEGES
-- rollback
GRANT ALL ON FUNCTION public.f() TO PUBLIC;
