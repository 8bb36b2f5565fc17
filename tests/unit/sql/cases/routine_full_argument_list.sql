-- A procedure may be named by its full argument list, OUT arguments too (PostgreSQL 14+; its
-- identity, pg_proc.proargtypes, is the IN ones): it is the procedure the history knows, so
-- its drop, comment and attributes are undone as for its identity. RESET ALL of a routine
-- earlier migrations left with no setting needs no undo.
-- history
create procedure public.pr(in x int, out y int) language plpgsql as $$ begin y := x; end $$;
alter procedure public.pr(int, int) owner to routine_owner;
comment on procedure public.pr(int) is 'pr';
create function public.g() returns int language sql set work_mem = '1MB' as 'select 1';
alter function public.g() reset all;
-- forward
alter function public.g() reset all;
comment on procedure public.pr(integer, integer) is 'other';
alter procedure public.pr(int, int) security definer;
drop procedure public.pr(x int, y int);
-- rollback
create procedure public.pr(in x int, out y int) language plpgsql as $$ begin y := x; end $$;
ALTER PROCEDURE public.pr(integer, integer) OWNER TO routine_owner;
COMMENT ON PROCEDURE public.pr(integer, integer) IS 'pr';
ALTER PROCEDURE public.pr (integer, integer) SECURITY INVOKER;
COMMENT ON PROCEDURE public.pr (integer, integer) IS 'pr';
