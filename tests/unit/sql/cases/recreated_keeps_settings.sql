-- An object recreated from an earlier migration's text gets back the settings the history
-- followed since: a trigger's switch (its CREATE leaves it on origin), a view's parameters.
-- history
create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create table public.t (id int);
create trigger a before insert on public.t for each row execute function public.f();
alter table public.t disable trigger a;
create trigger b before insert on public.t for each row execute function public.f();
alter table public.t enable replica trigger b;
create trigger c before insert on public.t for each row execute function public.f();
create view public.v with (security_barrier) as select id from public.t;
alter view public.v set (security_invoker = on);
alter view public.v reset (security_barrier);
create view public.w with (security_invoker = on) as select id from public.t;
-- forward
drop trigger a on public.t;
create or replace trigger b before insert on public.t for each row execute function public.f();
drop trigger c on public.t;
drop view public.v;
drop view public.w;
-- rollback
CREATE VIEW public.w WITH (security_invoker = on) AS SELECT id FROM public.t;
CREATE VIEW public.v WITH (security_barrier) AS SELECT id FROM public.t;
ALTER VIEW public.v SET (security_invoker = on);
ALTER VIEW public.v RESET (security_barrier);
CREATE TRIGGER c BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();
CREATE OR REPLACE TRIGGER b BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();
ALTER TABLE public.t ENABLE REPLICA TRIGGER b;
CREATE TRIGGER a BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();
ALTER TABLE public.t DISABLE TRIGGER a;
