-- IF NOT EXISTS of an object no earlier migration made may have met one made in the dashboard
-- or by the platform (public.profiles with its rows, auth.users, pg_cron with its jobs): its
-- DROP is a human's call (MANUAL), filled by generate --verify from the state before. Surely
-- new (its schema made here, its table made here; a column of a table the migrations made and
-- followed; an index of a table the migrations made, whose DROP loses no row): dropped. A
-- platform extension (pgsodium) is kept. An index of a table they did not make is MANUAL.
-- history
create table public.known (id int);
-- forward
create table if not exists public.profiles (id int);
alter table public.profiles add column if not exists name text;
create table if not exists auth.users (id uuid);
create extension if not exists pg_cron;
create extension if not exists pgsodium;
create sequence if not exists public.sq;
alter table public.known add column if not exists note text;
create schema fresh;
create table if not exists fresh.t (id int);
create table public.n (id int);
create index if not exists n_idx on public.n (id);
create index if not exists known_id_idx on public.known (id);
create index if not exists users_id_idx on auth.users (id);
-- manual
PRIOR_DEFINITION PRIOR_DEFINITION PRIOR_DEFINITION PRIOR_DEFINITION PRIOR_DEFINITION PRIOR_DEFINITION
-- rollback
DROP INDEX IF EXISTS public.known_id_idx;
DROP INDEX IF EXISTS public.n_idx;
DROP TABLE IF EXISTS public.n;
DROP TABLE IF EXISTS fresh.t;
DROP SCHEMA IF EXISTS fresh;
ALTER TABLE public.known DROP COLUMN IF EXISTS note;
