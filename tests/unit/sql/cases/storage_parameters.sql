-- SET / RESET (...) of a relation's parameters go back to what they were, as the history
-- followed them: a view's WITH (...) and WITH CHECK OPTION (OR REPLACE replaces them), a
-- table's or materialized view's, later SET / RESET, renames. Unknown (made elsewhere) is by
-- hand; a relation made here needs nothing.
-- history
create table public.docs (id int) with (fillfactor = 70);
create view public.v as select id from public.docs;
create view public.w with (security_barrier) as select id from public.docs;
create or replace view public.w with (security_invoker = true) as select id from public.docs;
create view public.checked as select id from public.docs with local check option;
create materialized view public.m with (fillfactor = 60) as select 1 as x;
alter table public.docs set (autovacuum_enabled = false, toast.autovacuum_enabled = false);
alter table public.docs reset (toast.autovacuum_enabled);
create view public.before_rename as select 1 as x;
alter view public.before_rename set (security_invoker = on);
alter view public.before_rename rename to after_rename;
-- forward
alter view public.v set (security_invoker = on);
alter view if exists public.w set (security_invoker = false, security_barrier = true);
alter view public.checked reset (check_option);
alter table public.docs set (fillfactor = 90, toast.autovacuum_enabled = true);
alter table public.docs reset (autovacuum_enabled);
alter materialized view public.m set (fillfactor = 100);
alter view public.after_rename set (security_invoker = off);
alter view public.elsewhere set (security_invoker = on);
create view public.fresh as select 1 as x;
alter view public.fresh set (security_invoker = on);
-- manual
UNSUPPORTED
-- rollback
DROP VIEW IF EXISTS public.fresh;
ALTER VIEW public.after_rename SET (security_invoker = on);
ALTER MATERIALIZED VIEW public.m SET (fillfactor = 60);
ALTER TABLE public.docs SET (autovacuum_enabled = false);
ALTER TABLE public.docs SET (fillfactor = 70);
ALTER TABLE public.docs RESET (toast.autovacuum_enabled);
ALTER VIEW public.checked SET (check_option = 'local');
ALTER VIEW IF EXISTS public.w SET (security_invoker = true);
ALTER VIEW IF EXISTS public.w RESET (security_barrier);
ALTER VIEW public.v RESET (security_invoker);
