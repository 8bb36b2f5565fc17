-- history
create table public.t (id int, a int, p int);
alter table public.t add constraint t_a_pos check (a > 0) not valid;
alter table public.t add constraint t_p_fkey foreign key (p) references public.t (id) not valid;
alter table public.t validate constraint t_p_fkey;
-- forward
alter table public.t validate constraint t_a_pos;
alter table public.t validate constraint t_p_fkey;
alter table public.t add constraint t_a_small check (a < 9) not valid;
alter table public.t validate constraint t_a_small;
-- rollback
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS t_a_small;
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS t_a_pos;
ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;
