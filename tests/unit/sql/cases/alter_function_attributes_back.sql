-- ALTER FUNCTION undone attribute by attribute to the values earlier migrations left (the
-- default where its CREATE said none), naming the routine as it is now (renamed here first),
-- its arguments however spelled; named without arguments, or an overload not known: by hand.
-- history
create function public.f3(x int) returns setof int language sql as $$select x$$;
alter function public.f3(int) rows 5 leakproof;
create function public.f(x int) returns int language sql as $$select x$$;
create function public.k(x int) returns int language sql immutable cost 3 as $$select x$$;
-- forward
alter function public.f3(integer) not leakproof;
alter function public.f(int) rename to g;
alter function public.g(int4) security definer;
alter function public.k volatile;
alter function public.k(text) volatile;
alter function public.k(int) volatile cost 50 called on null input;
-- manual
PRIOR_DEFINITION PRIOR_DEFINITION
-- rollback
ALTER FUNCTION public.k (integer) IMMUTABLE  COST 3  CALLED ON NULL INPUT;
ALTER FUNCTION public.g (int4) SECURITY INVOKER;
ALTER FUNCTION public.g(integer) RENAME TO f;
ALTER FUNCTION public.f3 (integer) LEAKPROOF;
