-- history
create table public.t (id int);
-- forward
create table if not exists public.t (id int);
alter table public.t add column if not exists id int;
-- rollback
