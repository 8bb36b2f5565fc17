-- An object dropped here and recreated from its earlier CREATE gets back the owner and the
-- comment earlier migrations gave it (its CREATE leaves it owned by whoever runs the rollback,
-- without a comment); a view its parameters too.
-- history
create table public.t (id int primary key, a int);
create view public.v with (security_barrier) as select * from public.t;
alter view public.v owner to r1, set (security_invoker=true);
comment on view public.v is 'vc';
create function public.fn() returns int language sql as $$select 1$$;
alter function public.fn() owner to r1;
comment on function public.fn() is 'it''s fn';
create function public.plain() returns int language sql as $$select 1$$;
-- forward
drop view public.v;
drop function public.fn();
drop function public.plain();
-- manual

-- rollback
create function public.plain() returns int language sql as $$select 1$$;
create function public.fn() returns int language sql as $$select 1$$;
ALTER FUNCTION public.fn() OWNER TO r1;
COMMENT ON FUNCTION public.fn() IS 'it''s fn';
create view public.v with (security_barrier) as select * from public.t;
ALTER VIEW public.v SET (security_barrier, security_invoker = 'true');
ALTER VIEW public.v OWNER TO r1;
COMMENT ON VIEW public.v IS 'vc';
