-- history
create schema private;
create function public.f() returns int language sql as 'select 1';
revoke execute on function public.f() from public;
alter function public.f() set schema private;
-- forward
-- a routine moved to another schema is the same object: its ACL goes with it (PUBLIC lost
-- EXECUTE before the move), so the GRANT gave it and its undo takes it back
grant execute on function private.f() to public;
-- rollback
REVOKE EXECUTE ON FUNCTION private.f() FROM PUBLIC;
