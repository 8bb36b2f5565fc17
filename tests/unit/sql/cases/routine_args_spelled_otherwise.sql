-- A routine's arguments however spelled (int, integer, int4) are one routine; named without
-- its arguments, which overload is unknown: its owner and attributes are then by hand.
-- history
create function public.f(x integer) returns int language sql as $$select x$$;
create function public.f(x text) returns int language sql as $$select 1$$;
alter function public.f(int4) security definer;
alter function public.f(text) set search_path = public;
create function public.k(x integer) returns int language sql as $$select x$$;
alter function public.k(int) owner to r1;
alter function public.k owner to r2;
create function public.m(x int) returns int language sql as $$select x$$;
alter function public.m security definer;
create function public.n(x int4) returns int language sql as $$select x$$;
alter function public.n(integer) owner to r1;
-- forward
drop function public.f(integer);
alter function public.k(int) owner to anon;
drop function public.m(int);
alter function public.n(int) owner to r2;
-- manual
RECREATE_DROPPED PRIOR_OWNER
-- rollback
ALTER FUNCTION public.n (integer) OWNER TO r1;
CREATE FUNCTION public.f(x integer) RETURNS integer LANGUAGE sql AS $$select x$$ SECURITY DEFINER;
