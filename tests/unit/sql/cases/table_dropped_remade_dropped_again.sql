-- history
create table public.t (id int);
-- forward
drop table public.t;
create table public.t (id int, extra text);
drop table if exists public.t;
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
DROP TABLE IF EXISTS public.t;
