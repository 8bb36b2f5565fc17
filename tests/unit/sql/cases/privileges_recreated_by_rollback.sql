-- history
create function public.f(a int) returns int language sql as 'select 1';
revoke execute on function public.f(int) from public, anon;
grant execute on function public.f(int) to reader;
create view public.v as select 1 as a;
grant select (a) on public.v to reader;
-- forward
-- DROP then CREATE: the rollback's CREATE of the old text gives the default ACL; what
-- earlier migrations granted and revoked since is made again
drop function public.f(int);
create function public.f(a int) returns int language sql as 'select 2';
revoke execute on function public.f(int) from public, anon;
drop view public.v;
-- rollback
CREATE VIEW public.v AS SELECT 1 AS a;
GRANT SELECT (a) ON TABLE public.v TO reader;
DROP FUNCTION IF EXISTS public.f(integer);
CREATE FUNCTION public.f(a int) RETURNS int LANGUAGE sql AS 'select 1';
REVOKE EXECUTE ON FUNCTION public.f(integer) FROM anon;
REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.f(integer) TO reader;
