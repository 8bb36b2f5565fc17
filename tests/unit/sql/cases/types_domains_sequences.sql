-- forward
create type public.mood as enum ('sad', 'ok');
create type public.pair as (a int, b int);
create domain public.email as text check (value ~ '@');
create sequence public.seq_x;
-- rollback
DROP SEQUENCE IF EXISTS public.seq_x;
DROP DOMAIN IF EXISTS public.email;
DROP TYPE IF EXISTS public.pair;
DROP TYPE IF EXISTS public.mood;
