-- history
create schema app;
create role r;
create type app.mood as enum ('a');
create domain app.pos as int check (value > 0);
create type public.shade as enum ('b');
set search_path to app, public;
grant usage on type shade to r;
-- forward
set search_path to app, public;
grant usage on type mood to r;
grant usage on domain pos to r;
revoke usage on type shade from r;
-- rollback
GRANT USAGE ON TYPE public.shade TO r;
REVOKE USAGE ON DOMAIN app.pos FROM r;
REVOKE USAGE ON TYPE app.mood FROM r;
