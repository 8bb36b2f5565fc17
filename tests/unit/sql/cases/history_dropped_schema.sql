-- A schema dropped with CASCADE takes what the history knew of everything in it: a function,
-- table or view made again there is new (its owner, switches, comment unknown until named).
-- history
create schema app;
create table app.t (id int);
alter table app.t replica identity full;
alter table app.t owner to alice;
comment on table app.t is 'old';
create function app.f() returns int language sql as 'select 1';
alter function app.f() owner to alice;
drop schema app cascade;
create schema app;
create table app.t (id int);
create function app.f() returns int language sql as 'select 2';
-- forward
alter table app.t replica identity nothing;
alter table app.t owner to bob;
alter function app.f() owner to bob;
comment on table app.t is 'new';
-- manual
PRIOR_OWNER PRIOR_OWNER
-- rollback
COMMENT ON TABLE app.t IS NULL;
ALTER TABLE app.t REPLICA IDENTITY DEFAULT;
