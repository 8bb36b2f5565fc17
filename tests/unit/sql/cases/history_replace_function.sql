-- history
create function public.greet() returns text language sql as $$ select 'hi' $$;
-- forward
create or replace function public.greet() returns text language sql as $$ select 'hello' $$;
create or replace function public.fresh() returns int language sql as $$ select 1 $$;
-- rollback
DROP FUNCTION IF EXISTS public.fresh();
CREATE OR REPLACE function public.greet() returns text language sql as $$ select 'hi' $$;
