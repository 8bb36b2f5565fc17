-- history
create table public.t (a int);
grant select on public.t to "Admin";
create function public.r() returns int language sql as 'select 1';
grant execute on function public.r() to "Admin";
-- forward
-- "Admin" (quoted) is another role than admin (folded): admin never held SELECT on t
revoke select on public.t from admin;
revoke select on public.t from "Admin";
-- recreated from its CREATE, r gets its grants again, to "Admin" as written
drop function public.r();
-- rollback
CREATE FUNCTION public.r() RETURNS int LANGUAGE sql AS 'select 1';
GRANT EXECUTE ON FUNCTION public.r() TO "Admin";
GRANT SELECT ON TABLE public.t TO "Admin";
