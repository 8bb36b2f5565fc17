-- CREATE UNLOGGED TABLE ... AS is unlogged from the start; CREATE TABLE [AS] IF NOT EXISTS
-- of a table the history does not know, and a DO block naming a table or its trigger, leave
-- its settings unknown (a DO block naming a routine, its attributes): their undo is by hand.
-- history
create unlogged table public.u as select 1 as a;
create table public.c as select 1 as a;
alter table public.c replica identity full, set (fillfactor=40);
create table if not exists public.c as select 1 as a;
do $$ begin execute 'create table public.d (id int primary key); alter table public.d replica identity full'; end $$;
create table if not exists public.d (id int primary key);
create table public.t (id int primary key, a int);
create function public.f() returns trigger language plpgsql as $$begin return new; end$$;
create trigger tg before insert on public.t for each row execute function public.f();
do $$ begin execute 'alter table x disable trigger tg'; end $$;
create function public.r() returns int language sql as $$select 1$$;
do $$ begin execute 'alter function public.r() security definer'; end $$;
-- forward
alter table public.u set logged;
alter table public.c replica identity default, reset (fillfactor);
alter table public.d replica identity default;
alter table public.t enable trigger tg;
alter function public.r() security invoker;
-- manual
PRIOR_DEFINITION UNSUPPORTED PRIOR_REPLICA_IDENTITY
-- rollback
ALTER TABLE public.c SET (fillfactor = 40);
ALTER TABLE public.c REPLICA IDENTITY FULL;
ALTER TABLE public.u SET UNLOGGED;
