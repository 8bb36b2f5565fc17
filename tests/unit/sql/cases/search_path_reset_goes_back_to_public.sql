-- history
create schema app;
set search_path to app, public;
reset search_path;
create view v as select 1 as x;
-- forward
set search_path to app, public;
reset search_path;
create table n (a int);
set search_path to app;
set search_path to default;
create table m (a int);
drop view v;
-- rollback
create view v as select 1 as x;
DROP TABLE IF EXISTS public.m;
DROP TABLE IF EXISTS public.n;
