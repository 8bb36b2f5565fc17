-- history
create function public.f(a bigint) returns int language sql as 'select 1';
create function public.f(a bigint, b timestamptz) returns int language sql as 'select 1';
create function public.g() returns int language sql as 'select 1';
revoke execute on function public.g from anon;
-- forward
-- hivecom: two overloads are two objects; the first REVOKE says nothing of the second
revoke execute on function public.f(bigint) from anon;
revoke execute on function public.f(bigint, timestamptz) from anon;
-- named without its arguments before, with them now
revoke execute on function public.g() from anon;
-- rollback
GRANT EXECUTE ON FUNCTION public.f(bigint, timestamptz) TO anon;
GRANT EXECUTE ON FUNCTION public.f(bigint) TO anon;
