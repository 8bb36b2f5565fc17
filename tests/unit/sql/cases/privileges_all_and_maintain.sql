-- history
create table public.user_roles (a int);
revoke select, insert, update, delete, truncate, references, trigger on public.user_roles from authenticated;
create table public.t2 (a int);
revoke all on public.t2 from anon;
create table private.p (a int);
-- forward
-- hivecom: authenticated kept MAINTAIN (PostgreSQL 17's, in the platform's ALL) through the
-- seven REVOKEs: REVOKE ALL would take it, the seven are named
grant all on table public.user_roles to authenticated;
-- REVOKE ALL took MAINTAIN too: ALL is ALL again
grant all on table public.t2 to anon;
revoke all on public.t2 from authenticated;
grant all on private.p to anon;
-- rollback
REVOKE ALL PRIVILEGES ON TABLE private.p FROM anon;
GRANT ALL PRIVILEGES ON TABLE public.t2 TO authenticated;
REVOKE ALL PRIVILEGES ON TABLE public.t2 FROM anon;
REVOKE SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.user_roles FROM authenticated;
