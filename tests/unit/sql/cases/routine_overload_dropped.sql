-- Dropping one overload of a function leaves the others: a CREATE OR REPLACE of another
-- overload after it replaced one that existed (its earlier text restores it), and a DROP IF
-- EXISTS of that other overload still drops it. A DROP naming no arguments took the only one,
-- and one naming a type without its modifier (numeric for numeric(10, 2)) that one: PostgreSQL
-- keys a routine by its argument types without modifiers, so its earlier text restores it.
-- history
create function public.f(a uuid) returns int language sql as $$ select 1 $$;
create function public.f(a uuid, b int default 1) returns int language sql as $$ select 1 $$;
create function public.g(a int) returns int language sql as $$ select 1 $$;
create function public.m(a numeric(10, 2)) returns int language sql as $$ select 1 $$;
-- forward
drop function if exists public.f(uuid);
create or replace function public.f(a uuid, b int default 1) returns int language sql as $$ select 2 $$;
drop function public.g;
create or replace function public.g(a int) returns int language sql as $$ select 2 $$;
drop function public.m(numeric);
create or replace function public.m(a numeric(10, 2)) returns int language sql as $$ select 2 $$;
-- rollback
DROP FUNCTION IF EXISTS public.m(numeric);
CREATE FUNCTION public.m(a numeric(10, 2)) RETURNS int LANGUAGE sql AS $$ select 1 $$;
DROP FUNCTION IF EXISTS public.g(integer);
CREATE FUNCTION public.g(a int) RETURNS int LANGUAGE sql AS $$ select 1 $$;
CREATE OR REPLACE FUNCTION public.f(a uuid, b int DEFAULT 1) RETURNS int LANGUAGE sql AS $$ select 1 $$;
CREATE FUNCTION public.f(a uuid) RETURNS int LANGUAGE sql AS $$ select 1 $$;
