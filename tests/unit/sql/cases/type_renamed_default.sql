-- A default cast to a type an earlier migration renamed names the type by its new name.
-- history
create type public.st_new as enum ('NEW', 'OLD');
create table public.lds (id int primary key, status public.st_new default 'NEW'::public.st_new);
alter type public.st_new rename to st;
-- forward
alter table public.lds alter column status set default 'OLD'::public.st;
-- rollback
ALTER TABLE public.lds ALTER COLUMN status SET DEFAULT CAST('NEW' AS public.st);
