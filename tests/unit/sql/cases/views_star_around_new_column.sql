-- history
create table public.orders (id int primary key, total int);
create view public.order_list as select * from public.orders;
create view public.order_summary as select count(*) as n from public.order_list;
create view public.big_orders as select o.* from public.orders o where o.total > 100;
-- forward
alter table public.orders add column note text;
drop view public.order_summary;
drop view public.order_list;
drop view public.big_orders;
create view public.order_list as select * from public.orders;
create view public.order_summary as select count(*) as n from public.order_list;
create view public.big_orders as select o.* from public.orders o where o.total > 100;
-- rollback
DROP VIEW IF EXISTS public.big_orders;
DROP VIEW IF EXISTS public.order_summary;
DROP VIEW IF EXISTS public.order_list;
ALTER TABLE public.orders DROP COLUMN IF EXISTS note;
create view public.order_list as select * from public.orders;
create view public.order_summary as select count(*) as n from public.order_list;
create view public.big_orders as select o.* from public.orders o where o.total > 100;
