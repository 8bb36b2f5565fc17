-- history
create table public.c (id int, b int);
-- forward
alter table public.c add check (b > 0), add check (b > 1);
alter table public.c add unique (b);
alter table public.c add unique (b);
-- rollback
ALTER TABLE public.c DROP CONSTRAINT IF EXISTS c_b_key1;
ALTER TABLE public.c DROP CONSTRAINT IF EXISTS c_b_key;
ALTER TABLE public.c DROP CONSTRAINT IF EXISTS c_b_check1;
ALTER TABLE public.c DROP CONSTRAINT IF EXISTS c_b_check;
