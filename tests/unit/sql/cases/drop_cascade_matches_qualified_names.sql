-- history
create schema audit;
create table public.items (id bigint primary key, email text, status text);
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create function audit.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create table audit.log (id bigint);
create trigger t_items before update on public.items for each row execute function touch();
create trigger t_log before update on audit.log for each row execute function audit.touch();
create index items_status on public.items (status) where status <> 'email';
create index items_lower on public.items (lower(email));
-- forward
drop function public.touch() cascade;
alter table public.items drop column email;
-- manual
RECREATE_DROPPED
-- rollback
ALTER TABLE public.items ADD COLUMN IF NOT EXISTS email text;
create index items_lower on public.items (lower(email));
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t_items before update on public.items for each row execute function touch();
