-- history
create schema app;
create table public.t (id int, a int);
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create policy p on public.t using (true);
create trigger t_touch before insert on public.t for each row execute function public.touch();
-- forward
set search_path to app, public;
create index on t (a);
create policy q on t using (false);
alter policy p on t using (id > 0);
drop trigger t_touch on t;
-- rollback
create trigger t_touch before insert on public.t for each row execute function public.touch();
DROP POLICY IF EXISTS p ON public.t;
create policy p on public.t using (true);
DROP POLICY IF EXISTS q ON public.t;
DROP INDEX IF EXISTS public.t_a_idx;
