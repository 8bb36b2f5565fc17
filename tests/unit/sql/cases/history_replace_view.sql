-- history
create view public.v as select 1 as a;
-- forward
create or replace view public.v as select 1 as a, 2 as b;
-- rollback
DROP VIEW IF EXISTS public.v;
create view public.v as select 1 as a;
