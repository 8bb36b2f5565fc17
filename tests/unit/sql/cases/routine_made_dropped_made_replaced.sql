-- history
create table public.unrelated (id int);
-- forward
create function public.seen() returns int language sql as $$ select 1 $$;
drop function if exists public.seen();
create function public.seen() returns int language sql as $$ select 2 $$;
create or replace function public.seen() returns int language sql as $$ select 3 $$;
-- manual
RECREATE_DROPPED
-- rollback
DROP FUNCTION IF EXISTS public.seen();
DROP FUNCTION IF EXISTS public.seen();
