-- A top-level SELECT or CALL of a routine runs code the history cannot follow, as a DO block
-- does: a routine made elsewhere (a platform's audit helper) may switch the triggers of any
-- table the call names; a migration's own routine is read with its body, and the routines it
-- calls: one that alters a table leaves that table's settings unknown (by hand), one that
-- only reads changes nothing.
-- history
create function public.f() returns trigger language plpgsql as $$begin return new; end$$;
create table public.orders (id int primary key);
create trigger t_orders before update on public.orders for each row execute function public.f();
select audit.enable_tracking('public.orders'::regclass);
create table public.items (id int primary key);
create trigger t_items before update on public.items for each row execute function public.f();
create function public.switch_off() returns void language plpgsql
  as $$ begin alter table public.items disable trigger t_items; end $$;
select public.switch_off();
create table public.called (id int primary key);
create trigger t_called before update on public.called for each row execute function public.f();
create procedure public.p() language plpgsql
  as $$ begin alter table public.called disable trigger t_called; end $$;
call public.p();
create table public.via (id int primary key);
create trigger t_via before update on public.via for each row execute function public.f();
create function public.inner_fn() returns void language plpgsql
  as $$ begin alter table public.via disable trigger t_via; end $$;
create function public.outer_fn() returns void language plpgsql
  as $$ begin perform public.inner_fn(); end $$;
select public.outer_fn();
create table public.kept (id int primary key);
create trigger t_kept before update on public.kept for each row execute function public.f();
create function public.is_admin() returns boolean language sql stable
  as $$ select exists (select 1 from public.kept) $$;
select public.is_admin();
-- forward
alter table public.orders enable trigger t_orders;
alter table public.items enable trigger t_items;
alter table public.called enable trigger t_called;
alter table public.via enable trigger t_via;
alter table public.kept disable trigger t_kept;
-- manual
UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED
-- rollback
ALTER TABLE public.kept ENABLE TRIGGER t_kept;
