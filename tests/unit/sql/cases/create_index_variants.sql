-- forward
create unique index idx_u on public.t (a);
create index on public.t (b, c) where b > 0;
create index concurrently idx_c on public.t (d);
-- rollback
DROP INDEX CONCURRENTLY IF EXISTS public.idx_c;
DROP INDEX IF EXISTS public.t_b_c_idx;
DROP INDEX IF EXISTS public.idx_u;
