-- history
create table public.old_t (a int);
revoke all on public.old_t from anon;
grant select on public.old_t to reader;
alter table public.old_t rename to t;
-- forward
-- a renamed table keeps its ACL: anon had lost everything, reader had SELECT
revoke select on public.t from anon, reader;
-- rollback
GRANT SELECT ON TABLE public.t TO reader;
