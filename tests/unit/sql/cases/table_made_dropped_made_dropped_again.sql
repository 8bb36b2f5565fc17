-- history
create table public.unrelated (id int);
-- forward
create table public.scratch (id int);
drop table if exists public.scratch;
create table public.scratch (id int, note text);
drop table if exists public.scratch;
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
DROP TABLE IF EXISTS public.scratch;
DROP TABLE IF EXISTS public.scratch;
