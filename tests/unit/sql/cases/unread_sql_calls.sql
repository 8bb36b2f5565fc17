-- A DO block that calls a routine (a platform's too, unknown to the migrations: it may switch
-- triggers) names the table only as an argument: its settings are unknown after it, so the
-- undo is by hand, never a guess.
-- history
create table public.orders (id int primary key);
create function public.f() returns trigger language plpgsql as $$begin return new; end$$;
create trigger t_audit before update on public.orders for each row execute function public.f();
do $$ begin perform audit.enable_tracking('public.orders'::regclass); end $$;
-- forward
alter table public.orders enable trigger t_audit;
-- manual
UNSUPPORTED
-- rollback
