-- history
create index idx_old on public.t (a);
-- forward
drop index public.idx_old;
-- rollback
create index idx_old on public.t (a);
