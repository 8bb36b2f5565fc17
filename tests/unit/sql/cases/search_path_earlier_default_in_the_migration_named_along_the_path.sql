-- history
create schema app;
create type app.mood as enum ('a');
create function app.f() returns int language sql as $$ select 1 $$;
create table public.t (id int, k int default 1, c text);
-- forward
set search_path to app, public;
alter table public.t alter column k set default f();
alter table public.t alter column k set default 5;
alter table public.t alter column c type mood using c::mood;
alter table public.t alter column c type text;
-- rollback
ALTER TABLE public.t ALTER COLUMN c TYPE app.mood USING c::app.mood;
ALTER TABLE public.t ALTER COLUMN c TYPE text USING c::text;
ALTER TABLE public.t ALTER COLUMN k SET DEFAULT app.f();
ALTER TABLE public.t ALTER COLUMN k SET DEFAULT 1;
