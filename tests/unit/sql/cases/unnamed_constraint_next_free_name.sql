-- history
create table public.c (id int, a int check (a > 0), b int);
alter table public.c add check (b > 0), add check (b > 1);
-- forward
alter table public.c add check (a < 100);
alter table public.c drop constraint c_b_check1;
-- rollback
ALTER TABLE public.c ADD CONSTRAINT c_b_check1 CHECK (b > 1);
ALTER TABLE public.c DROP CONSTRAINT IF EXISTS c_a_check1;
