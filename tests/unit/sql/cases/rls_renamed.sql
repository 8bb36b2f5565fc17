-- Row security is looked up by the table's name before this migration renamed it: switched
-- on where it already was needs nothing; on the renamed table it was off, it is switched off.
-- history
create table public.a (id int);
alter table public.a enable row level security;
create table public.c (id int);
-- forward
alter table public.a rename to b;
alter table public.b enable row level security;
alter table public.c rename to d;
alter table public.d enable row level security;
-- rollback
ALTER TABLE public.d DISABLE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS public.d RENAME TO c;
ALTER TABLE IF EXISTS public.b RENAME TO a;
