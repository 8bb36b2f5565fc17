-- history
create table public.unrelated (id int);
-- forward
create function public.tally() returns int language sql as $$ select 1 $$;
drop function if exists public.tally();
create function public.tally() returns int language sql as $$ select 2 $$;
drop function if exists public.tally();
-- manual
RECREATE_DROPPED
-- rollback
create function public.tally() returns int language sql as $$ select 2 $$;
DROP FUNCTION IF EXISTS public.tally();
DROP FUNCTION IF EXISTS public.tally();
