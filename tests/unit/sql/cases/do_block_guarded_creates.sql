-- A policy an earlier DO block made where none stood is learned from the block's text; the same
-- guarded block run again (same text) changes nothing; one made over a known policy with another
-- text may have replaced it (or been skipped): not known. A later block dropping them is undone
-- by making the known one again; the other is named in its MANUAL item.
-- history
create table public.t (id int);
do $$ begin begin execute 'create policy "p" on public.t for select using (id > 0)'; exception when duplicate_object then null; end; end $$;
do $$ begin begin execute 'create policy "p" on public.t for select using (id > 0)'; exception when duplicate_object then null; end; end $$;
create policy q on public.t for select using (true);
do $$ begin begin execute 'create policy q on public.t for select using (false)'; exception when duplicate_object then null; end; end $$;
-- forward
do $$ begin execute 'drop policy if exists "p" on public.t'; execute 'drop policy if exists q on public.t'; end $$;
-- manual
DYNAMIC
-- rollback
DROP POLICY IF EXISTS p ON public.t;
create policy "p" on public.t for select using (id > 0);
