-- history
create table public.t (a int, b int);
revoke select on public.t from authenticated, anon;
grant select (a, b) on public.t to authenticated;
-- forward
-- Rond45: the table-level REVOKE takes the column privileges with it; the table's SELECT
-- was revoked already
revoke select on public.t from authenticated, anon;
grant select (a, b) on public.t to authenticated;
grant insert, update on public.t to authenticated;
-- rollback
REVOKE SELECT (a, b) ON TABLE public.t FROM authenticated;
GRANT SELECT (a, b) ON TABLE public.t TO authenticated;
