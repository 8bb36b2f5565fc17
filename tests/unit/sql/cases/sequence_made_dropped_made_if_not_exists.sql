-- history
create table public.unrelated (id int);
-- forward
create sequence public.s;
drop sequence public.s;
create sequence public.s;
create sequence if not exists public.s;
-- manual
RECREATE_DROPPED
-- rollback
DROP SEQUENCE IF EXISTS public.s;
DROP SEQUENCE IF EXISTS public.s;
