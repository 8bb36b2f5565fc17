-- forward
create table items (id int);
-- rollback
DROP TABLE IF EXISTS public.items;
