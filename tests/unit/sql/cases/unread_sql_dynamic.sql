-- SQL built at run time (a loop over pg_tables setting REPLICA IDENTITY FULL, the usual
-- Realtime setup) names no table in its text: every table's settings are unknown after it.
-- A routine's SET ... FROM CURRENT is not written back (it would take the rollback session's
-- value): by hand.
-- history
create table public.items (id int primary key);
do $$ declare r record; begin for r in select tablename from pg_tables where schemaname = 'public' loop execute format('alter table public.%I replica identity full', r.tablename); end loop; end $$;
create function public.g() returns int language sql set statement_timeout from current as $$select 1$$;
-- forward
alter table public.items replica identity default;
alter function public.g() reset all;
-- manual
PRIOR_DEFINITION PRIOR_REPLICA_IDENTITY
-- rollback
