-- history
create schema private;
create table public.t (id int primary key);
alter table public.t set schema private;
-- forward
-- a table moved by SET SCHEMA is still the one an earlier migration made: its privileges as
-- made (the platform's default privileges in public) went with it
grant select on table private.t to anon;
-- rollback
