-- history
create policy "read own" on public.notes for select using (auth.uid() = owner);
-- forward
alter policy "read own" on public.notes using (true);
-- rollback
DROP POLICY IF EXISTS "read own" ON public.notes;
create policy "read own" on public.notes for select using (auth.uid() = owner);
