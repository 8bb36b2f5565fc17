-- A trigger's switch goes back to how it fired before the migration, as the history followed
-- it (created: on origin; OR REPLACE switches it back on; ALL / USER; renamed trigger or
-- table), not to the opposite of the forward's switch. Unknown (a table or trigger made
-- elsewhere, a partition's clone) is by hand; a switch already so needs nothing.
-- history
create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create table public.t (id int);
create trigger a before insert on public.t for each row execute function public.f();
create trigger b before insert on public.t for each row execute function public.f();
create trigger c before insert on public.t for each row execute function public.f();
create trigger d before insert on public.t for each row execute function public.f();
alter table public.t disable trigger a;
alter table public.t disable trigger user;
alter table public.t enable always trigger b;
alter table public.t enable trigger c;
alter table public.t enable replica trigger d;
alter table public.t disable trigger d;
create or replace trigger d before insert on public.t for each row execute function public.f();
alter trigger c on public.t rename to c2;
create table public.p (id int) partition by range (id);
create trigger pg before insert on public.p for each row execute function public.f();
create table public.p1 partition of public.p for values from (0) to (10);
create table public.old (id int);
create trigger o before insert on public.old for each row execute function public.f();
alter table public.old enable replica trigger o;
alter table public.old rename to renamed;
-- forward
alter table public.t disable trigger a;
alter table public.t enable trigger a;
alter table public.t enable trigger b;
alter table public.t disable trigger c2;
alter table public.t enable always trigger d;
alter table public.renamed disable trigger o;
alter table public.p1 disable trigger pg;
alter table public.p disable trigger pg;
alter table only public.p disable trigger pg;
alter table auth.users disable trigger on_auth_user_created;
alter trigger d on public.t rename to d2;
alter table public.t enable replica trigger d2;
create trigger n before insert on public.t for each row execute function public.f();
alter table public.t disable trigger n;
-- manual
UNSUPPORTED UNSUPPORTED UNSUPPORTED
-- rollback
DROP TRIGGER IF EXISTS n ON public.t;
ALTER TABLE public.t ENABLE TRIGGER d2;
ALTER TRIGGER d2 ON public.t RENAME TO d;
ALTER TABLE ONLY public.p ENABLE TRIGGER pg;
ALTER TABLE public.renamed ENABLE REPLICA TRIGGER o;
ALTER TABLE public.t ENABLE TRIGGER d;
ALTER TABLE public.t ENABLE TRIGGER c2;
ALTER TABLE public.t ENABLE ALWAYS TRIGGER b;
ALTER TABLE public.t DISABLE TRIGGER a;
