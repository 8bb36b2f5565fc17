-- The rollback drops the table, then the type and the function it used. `execute` archives
-- the table instead of dropping it, so the archive must not keep them alive: generated columns
-- become plain, CHECKs and indexes over the function go, enum columns become text
-- (runner/archive_inert.py; verified in tests/integration/verify/test_verify_replays.py).
-- forward
create function public.short_code(n bigint) returns text language sql immutable
  as $$ select 'c' || n::text $$;
create type public.invite_state as enum ('open', 'used');
create table public.invites (
  id bigint primary key,
  state public.invite_state not null default 'open',
  code text generated always as (public.short_code(id)) stored,
  n bigint check (public.short_code(n) <> '')
);
create index invites_code_idx on public.invites (public.short_code(n));
-- rollback
DROP INDEX IF EXISTS public.invites_code_idx;
DROP TABLE IF EXISTS public.invites;
DROP TYPE IF EXISTS public.invite_state;
DROP FUNCTION IF EXISTS public.short_code(bigint);
