-- history
create schema app;
create view public.v as select 1 as a;
create view app.w as select 2 as b;
-- forward
set search_path to app, public;
drop view public.v;
drop view w;
-- rollback
create view app.w as select 2 as b;
create view public.v as select 1 as a;
