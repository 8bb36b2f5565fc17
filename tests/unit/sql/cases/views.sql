-- forward
create view public.v as select 1 as x;
create materialized view public.mv as select 2 as y;
-- rollback
DROP MATERIALIZED VIEW IF EXISTS public.mv;
DROP VIEW IF EXISTS public.v;
