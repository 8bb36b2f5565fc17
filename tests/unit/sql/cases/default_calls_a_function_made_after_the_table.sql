-- A default set on a new table's column that calls a function the migration made after the
-- table: the rollback drops the function before the table, so the default lets go of it first
-- (bare or qualified, along the search_path). A built-in or an older function: nothing to undo.
-- history
create function public.older_code() returns text language sql as 'select ''x''';
-- forward
create table public.tickets (id int primary key, code text, tag text, made timestamptz, old text);
create function public.new_code() returns text language sql volatile as 'select md5(random()::text)';
create schema app;
create function app.new_tag() returns text language sql as 'select ''t''';
alter table public.tickets alter column code set default new_code();
alter table public.tickets alter column tag set default upper(app.new_tag());
alter table public.tickets alter column made set default now();
alter table public.tickets alter column old set default public.older_code();
-- rollback
ALTER TABLE public.tickets ALTER COLUMN tag DROP DEFAULT;
ALTER TABLE public.tickets ALTER COLUMN code DROP DEFAULT;
DROP FUNCTION IF EXISTS app.new_tag();
DROP SCHEMA IF EXISTS app;
DROP FUNCTION IF EXISTS public.new_code();
DROP TABLE IF EXISTS public.tickets;
