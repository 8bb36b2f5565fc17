-- history
create table public.m (id int, a int, b int);
alter table public.m add constraint m_pair unique (a, b);
create table public.k (id int primary key);
-- forward
create unique index if not exists m_pair on public.m (a, b);
create index on public.k (id);
-- rollback
DROP INDEX IF EXISTS public.k_id_idx;
