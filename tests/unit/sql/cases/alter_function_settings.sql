-- ALTER FUNCTION … SET: the settings before are the shadow's (PRIOR_DEFINITION, filled with the
-- function's definition); on a function this migration creates, nothing.
-- history
create function public.f() returns int language sql as 'select 1';
-- forward
alter function public.f() set search_path = private;
create function public.g() returns int language sql as 'select 2';
alter function public.g() security definer;
-- manual
PRIOR_DEFINITION
-- rollback
DROP FUNCTION IF EXISTS public.g();
