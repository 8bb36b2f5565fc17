-- history
create table public.unrelated (id int);
-- forward
create or replace function public.members(guild uuid) returns table (uid uuid, role int)
  language sql as $$ select null::uuid, 1 $$;
drop function if exists public.members(uuid);
create or replace function public.members(guild uuid) returns table (uid uuid, role text)
  language sql as $$ select null::uuid, 'a' $$;
-- manual
RECREATE_DROPPED
-- rollback
DROP FUNCTION IF EXISTS public.members(uuid);
DROP FUNCTION IF EXISTS public.members(uuid);
