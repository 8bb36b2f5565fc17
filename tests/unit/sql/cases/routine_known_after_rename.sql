-- history
create table public.t (id int);
create function public.f() returns trigger language plpgsql as $$ begin return new; end; $$;
create trigger t_f before insert on public.t for each row execute function public.f();
alter function public.f() rename to trigger_f;
-- forward
create or replace function public.trigger_f() returns trigger language plpgsql
  as $$ begin new.id := 1; return new; end; $$;
-- manual
PRIOR_DEFINITION
-- rollback
