-- ENABLE / DISABLE TRIGGER ALL or USER: a DISABLE is undone by the ENABLE of the same scope
-- when earlier migrations left every trigger of the table firing; an ENABLE after this
-- migration's own DISABLE, by the DISABLE; an ENABLE alone, or a DISABLE where a trigger was
-- left disabled before, by a human (not with the parser's name of the subcommand).
-- history
create table public.a (id int primary key);
create table public.b (id int primary key);
create function public.tf() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger b_t before insert on public.b for each row execute function public.tf();
alter table public.b disable trigger b_t;
-- forward
alter table public.a disable trigger user;
update public.a set id = id;
alter table public.a enable trigger user;
alter table public.a disable trigger all;
alter table public.b disable trigger user;
alter table public.b enable trigger all;
-- manual
UNSUPPORTED DATA_CHANGE
-- rollback
ALTER TABLE public.b DISABLE TRIGGER USER;
ALTER TABLE public.a ENABLE TRIGGER ALL;
ALTER TABLE public.a DISABLE TRIGGER USER;
ALTER TABLE public.a ENABLE TRIGGER USER;
