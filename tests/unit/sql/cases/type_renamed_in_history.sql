-- A column's type renamed by an earlier migration: the type change is undone to the type under
-- its new name.
-- history
create type public.status_new as enum ('a', 'b');
create table public.leads (id int primary key, status public.status_new);
alter type public.status_new rename to status;
-- forward
alter table public.leads alter column status type text using status::text;
-- rollback
ALTER TABLE public.leads ALTER COLUMN status TYPE public.status USING status::public.status;
