-- history
create schema app;
create role r;
create type app.mood as enum ('a');
create table app.t (id int);
-- forward
set search_path to app;
grant select on t to r;
grant usage on type mood to r;
-- rollback
REVOKE USAGE ON TYPE app.mood FROM r;
REVOKE SELECT ON TABLE app.t FROM r;
