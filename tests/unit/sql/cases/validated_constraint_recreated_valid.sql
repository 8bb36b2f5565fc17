-- history
create table public.t (id int, a int);
alter table public.t add constraint t_a_pos check (a > 0) not valid;
alter table public.t validate constraint t_a_pos;
alter table public.t add constraint t_a_small check (a < 9) not valid;
-- forward
alter table public.t drop constraint t_a_pos;
alter table public.t drop constraint t_a_small;
-- rollback
ALTER TABLE public.t ADD CONSTRAINT t_a_small CHECK (a < 9) NOT VALID;
ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0);
