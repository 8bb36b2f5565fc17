-- ALTER FUNCTION … SET: each attribute set back to what earlier migrations left, by one
-- ALTER FUNCTION naming the routine (not the whole CREATE again); by hand (PRIOR_DEFINITION)
-- for a function made elsewhere or after SET ... FROM CURRENT; nothing on one made here. A
-- dropped function is restored as its later ALTER FUNCTIONs left it.
-- history
create function public.f() returns int language sql as 'select 1';
create function public.h() returns int language sql stable set work_mem = '1MB' as 'select 3';
alter function public.h() set search_path = public security definer reset work_mem;
create function public.k() returns int language sql as 'select 4';
alter function public.k() set search_path from current;
-- forward
alter function public.f() set search_path = private;
create function public.g() returns int language sql as 'select 2';
alter function public.g() security definer;
alter function public.h() reset all;
alter function public.k() security definer;
alter function public.elsewhere() security definer;
drop function public.h();
-- manual
PRIOR_DEFINITION PRIOR_DEFINITION
-- rollback
CREATE FUNCTION public.h() RETURNS integer LANGUAGE sql STABLE AS $$select 3$$ SET search_path TO 'public' SECURITY DEFINER;
ALTER FUNCTION public.h () SET search_path TO 'public';
DROP FUNCTION IF EXISTS public.g();
ALTER FUNCTION public.f () RESET search_path;
