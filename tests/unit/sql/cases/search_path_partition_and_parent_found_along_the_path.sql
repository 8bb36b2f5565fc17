-- history
create schema app;
create table public.pp (id int) partition by range (id);
create table public.p1 (id int);
create table public.par (id int);
create table public.kid (id int);
-- forward
set search_path to app, public;
alter table pp attach partition p1 for values from (1) to (10);
alter table kid inherit par;
-- rollback
ALTER TABLE public.kid NO INHERIT public.par;
ALTER TABLE public.pp DETACH PARTITION public.p1;
