-- forward
select nextval('public.seq');
select public.recompute_everything();
select count(*) from public.t where public.side_effect(t.id);
select id, name into public.t_copy from public.t;
explain analyze select public.recompute_everything();
-- manual
DYNAMIC DYNAMIC DYNAMIC DYNAMIC
-- rollback
DROP TABLE IF EXISTS public.t_copy;
