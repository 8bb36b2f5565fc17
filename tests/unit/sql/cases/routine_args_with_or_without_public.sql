-- history
create type public.perm as enum ('a');
create or replace function public.auth(p public.perm) returns bool language sql as $$ select true $$;
create function public.g(p perm, q int) returns bool language sql as $$ select true $$;
-- forward
create or replace function public.auth(p perm) returns bool language sql as $$ select false $$;
create or replace function public.g(p public.perm, q integer) returns bool language sql
  as $$ select false $$;
-- rollback
CREATE OR REPLACE function public.g(p perm, q int) returns bool language sql as $$ select true $$;
create or replace function public.auth(p public.perm) returns bool language sql as $$ select true $$;
