-- forward
create function public.f(a integer, b text, out c int) returns int language sql as $$ select 1 $$;
create procedure public.p(x uuid) language sql as $$ select 1 $$;
-- rollback
DROP PROCEDURE IF EXISTS public.p(uuid);
DROP FUNCTION IF EXISTS public.f(integer, text);
