-- A table dropped from a publication is added back as an earlier migration added it: with
-- its column list and WHERE (followed through a table rename and SET TABLE); by name alone
-- where no earlier migration said more.
-- history
create table public.a (id int, x int);
create table public.b (id int, x int);
create table public.old (id int, x int);
create publication p for table public.a (id, x) where (x > 1), public.b;
alter publication p add table public.old where (id > 0);
alter table public.old rename to c;
create publication q for table public.a where (x > 5);
alter publication q set table public.b (id);
-- forward
alter publication p drop table public.a, public.b;
alter publication p drop table public.c;
alter publication q drop table public.b;
alter publication supabase_realtime drop table public.a;
-- rollback
ALTER PUBLICATION supabase_realtime ADD TABLE public.a;
ALTER PUBLICATION q ADD TABLE public.b (id);
ALTER PUBLICATION p ADD TABLE public.c WHERE (id > 0);
ALTER PUBLICATION p ADD TABLE public.a (id, x) WHERE (x > 1), public.b;
