-- A DO block dropping policies by EXECUTE format('DROP POLICY %I ON …') in a loop over pg_policies:
-- the history forgets each policy the template may name (of that table; of any, with %I.%I),
-- so a later DROP is not undone from a text that may no longer stand; the block's MANUAL
-- item says it drops any policy.
-- history
create table public.t (id int);
create table public.u (id int);
create policy p on public.t for select using (true);
create policy q on public.u for select using (true);
create policy s on storage.objects for select using (true);
do $$ declare r record; begin
  for r in select policyname from pg_policies where tablename = 't' loop
    execute format('drop policy if exists %I on public.t', r.policyname);
  end loop;
end $$;
-- forward
drop policy p on public.t;
drop policy q on public.u;
do $$ declare r record; begin
  for r in select * from pg_policies loop
    execute format('DROP POLICY %I ON %I.%I', r.policyname, r.schemaname, r.tablename);
  end loop;
end $$;
-- manual
DYNAMIC RECREATE_DROPPED
-- rollback
create policy q on public.u for select using (true);
