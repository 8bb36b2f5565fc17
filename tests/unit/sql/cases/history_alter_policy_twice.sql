-- A policy altered by an earlier migration is restored as that migration left it (its roles
-- and USING from the ALTER, the rest from the CREATE), whether altered again or dropped.
-- history
create policy "read own" on public.notes for select to anon using (auth.uid() = owner);
alter policy "read own" on public.notes to authenticated using (auth.uid() = author);
create policy w on public.notes for insert with check (false);
alter policy w on public.notes with check (true);
-- forward
alter policy "read own" on public.notes using (true);
drop policy w on public.notes;
-- rollback
CREATE POLICY w ON public.notes FOR INSERT WITH CHECK (true);
DROP POLICY IF EXISTS "read own" ON public.notes;
CREATE POLICY "read own" ON public.notes FOR SELECT TO authenticated USING (auth.uid() = author);
