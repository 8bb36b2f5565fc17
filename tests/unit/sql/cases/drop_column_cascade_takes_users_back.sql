-- history
create table public.items (id bigint primary key, email text, owner uuid);
create view public.v as select id, email from public.items;
create view public.v_all as select * from public.items;
create view public.v_other as select id, owner from public.items;
create trigger v_ins instead of insert on public.v for each row execute function public.f();
create policy only_mail on public.items as restrictive using (email is not null);
create policy by_owner on public.items using (owner = auth.uid());
create trigger t_mail before update of email on public.items for each row execute function public.f();
create trigger t_when before update on public.items for each row when (new.email <> old.email) execute function public.f();
create trigger t_any before update on public.items for each row execute function public.f();
-- forward
alter table public.items drop column email cascade;
alter table public.elsewhere drop column c cascade;
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
ALTER TABLE public.items ADD COLUMN IF NOT EXISTS email text;
create view public.v as select id, email from public.items;
create trigger v_ins instead of insert on public.v for each row execute function public.f();
create view public.v_all as select * from public.items;
create policy only_mail on public.items as restrictive using (email is not null);
create trigger t_mail before update of email on public.items for each row execute function public.f();
create trigger t_when before update on public.items for each row when (new.email <> old.email) execute function public.f();
