-- history
create table public.t (id int, a int, constraint t_a_pos check (a > 0));
-- forward
alter table public.t drop constraint t_a_pos;
-- rollback
ALTER TABLE public.t ADD CONSTRAINT t_a_pos CHECK (a > 0);
