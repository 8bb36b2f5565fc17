-- history
create function public.old_f() returns int language sql as 'select 1';
revoke execute on function public.old_f() from anon;
alter function public.old_f() rename to new_f;
create table public.t (a int);
grant select on public.t to reader;
do $$ begin execute format('revoke all on public.%I from reader', 't'); end $$;
-- forward
-- hivecom: a routine renamed is the same object, its ACL goes with it (anon lost EXECUTE
-- before, authenticated has it from the platform's default privileges)
revoke execute on function public.new_f() from public, anon, authenticated;
-- hivecom: a DO block may have revoked what the earlier GRANT gave: held or not, unknown
grant select on public.t to reader;
-- rollback
REVOKE SELECT ON TABLE public.t FROM reader;
GRANT EXECUTE ON FUNCTION public.new_f() TO PUBLIC, authenticated;
