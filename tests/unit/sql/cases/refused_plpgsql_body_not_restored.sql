-- history
create function public.f() returns int language plpgsql as $$ begin return 1; end; $$;
create or replace function public.f() returns int language plpgsql
  as $$ begin if true then return 1; end; $$;
-- forward
create or replace function public.f() returns int language plpgsql as $$ begin return 2; end; $$;
-- manual
PRIOR_DEFINITION
-- rollback
