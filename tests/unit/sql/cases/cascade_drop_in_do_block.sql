-- history
create type public.perm as enum ('a', 'b');
create table public.t (id int, p public.perm);
create policy "by perm" on public.t for select using (p = 'a'::public.perm);
create policy "by id" on public.t for select using (id > 0);
do $$ begin
  alter type public.perm rename to perm_old;
  create type public.perm as enum ('a');
  drop type public.perm_old cascade;
end $$;
-- forward
drop policy if exists "by perm" on public.t;
drop policy if exists "by id" on public.t;
-- manual
RECREATE_DROPPED
-- rollback
create policy "by id" on public.t for select using (id > 0);
