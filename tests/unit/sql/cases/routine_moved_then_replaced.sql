-- A function or view moved to another schema (or renamed) and then CREATE OR REPLACEd there
-- existed before: the undo restores its earlier text under the name it has at that point of
-- the rollback, and the move is undone after. Another overload of the moved name is new.
-- history
create schema priv;
create function public.g(a uuid) returns int language sql as $$ select 1 $$;
create view public.v as select 1 as one;
-- forward
alter function public.g(uuid) set schema priv;
create or replace function priv.g(a uuid) returns int language sql as $$ select 2 $$;
create or replace function priv.g(a int) returns int language sql as $$ select 3 $$;
alter view public.v set schema priv;
create or replace view priv.v as select 1 as one, 2 as two;
-- rollback
DROP VIEW IF EXISTS priv.v;
CREATE VIEW priv.v AS SELECT 1 AS one;
ALTER VIEW IF EXISTS priv.v SET SCHEMA public;
DROP FUNCTION IF EXISTS priv.g(integer);
CREATE OR REPLACE FUNCTION priv.g(a uuid) RETURNS integer LANGUAGE sql AS $$ select 1 $$;
ALTER FUNCTION priv.g(uuid) SET SCHEMA public;
