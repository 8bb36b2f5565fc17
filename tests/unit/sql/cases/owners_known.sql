-- An owner goes back to the one an earlier migration named with OWNER TO (followed through a
-- rename, forgotten when the object is made anew or CURRENT_USER is named); nothing when it
-- was already so; a sequence (it changes owner with its table) or an owner never named is
-- the shadow's to say (PRIOR_OWNER).
-- history
create table public.reports (id int);
alter table public.reports owner to postgres;
create function public.f() returns int language sql as 'select 1';
alter function public.f() owner to postgres;
create view public.v as select 1 as x;
alter view public.v owner to reporting;
create table public.recreated (id int);
alter table public.recreated owner to alice;
drop table public.recreated;
create table public.recreated (id int);
alter table public.renamed_src owner to bob;
alter table public.renamed_src rename to renamed;
create sequence public.s;
alter sequence public.s owner to bob;
alter function public.g() owner to current_user;
create type public.kind as enum ('a');
alter type public.kind owner to bob;
-- forward
alter table public.reports owner to reporting;
create or replace function public.f() returns int language sql as 'select 2';
alter function public.f() owner to postgres;
alter view public.v owner to postgres;
alter table public.recreated owner to bob;
alter table public.renamed owner to carol;
alter sequence public.s owner to carol;
alter function public.g() owner to carol;
alter table public.reports rename to reps;
alter table public.reps owner to dave;
set search_path = public;
alter type kind owner to carol;
-- manual
PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER
-- rollback
ALTER TYPE public.kind OWNER TO bob;
ALTER TABLE public.reps OWNER TO postgres;
ALTER TABLE IF EXISTS public.reps RENAME TO reports;
ALTER TABLE public.renamed OWNER TO bob;
ALTER VIEW public.v OWNER TO reporting;
create or replace function public.f() returns int language sql as 'select 1';
ALTER TABLE public.reports OWNER TO postgres;
