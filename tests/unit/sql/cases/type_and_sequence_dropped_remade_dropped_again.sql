-- history
create type public.mood as enum ('a', 'b');
create sequence public.ticket start 5;
-- forward
drop type public.mood;
create type public.mood as enum ('x');
comment on type public.mood is 'the new one';
drop type if exists public.mood;
drop sequence public.ticket;
create sequence public.ticket start 7;
drop sequence if exists public.ticket;
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
DROP SEQUENCE IF EXISTS public.ticket;
create type public.mood as enum ('x');
COMMENT ON TYPE public.mood IS NULL;
DROP TYPE IF EXISTS public.mood;
create type public.mood as enum ('a', 'b');
