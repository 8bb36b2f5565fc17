-- history
create schema app;
create type app.mood as enum ('a', 'b');
create function app.f() returns int language sql as $$ select 2 $$;
create function public.f() returns int language sql as $$ select 1 $$;
create sequence app.s;
create sequence public.s;
set search_path to app, public;
create table public.t (id int, m mood default 'a'::mood, g int generated always as (id + f()) stored);
alter table public.t add column n bigint default nextval('s');
alter table public.t add column k int default f();
alter table public.t alter column k set default f() + now()::date - current_date;
-- forward
alter table public.t alter column m type text;
alter table public.t drop column g;
alter table public.t alter column n set default 0, alter column k set default 0;
-- rollback
ALTER TABLE public.t ALTER COLUMN k SET DEFAULT app.f() + now()::date - current_date;
ALTER TABLE public.t ALTER COLUMN n SET DEFAULT nextval('app.s');
ALTER TABLE public.t ADD COLUMN IF NOT EXISTS g integer GENERATED ALWAYS AS (id + app.f()) STORED;
ALTER TABLE public.t ALTER COLUMN m DROP DEFAULT;
ALTER TABLE public.t ALTER COLUMN m TYPE app.mood USING m::app.mood;
ALTER TABLE public.t ALTER COLUMN m SET DEFAULT CAST('a' AS app.mood);
