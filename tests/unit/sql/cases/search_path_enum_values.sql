-- After SET search_path TO app, public, a bare enum's RENAME VALUE and ADD VALUE are public's
-- type's (the one the path finds): the undo renames the value back on public.mood, and the
-- MANUAL item names it. Before, both named app.mood, which does not exist.
-- history
create schema app;
create type public.mood as enum ('a', 'c');
-- forward
set search_path to app, public;
alter type mood rename value 'a' to 'b';
alter type mood add value 'z';
-- manual
ENUM_VALUE
-- rollback
ALTER TYPE public.mood RENAME VALUE 'b' TO 'a';
