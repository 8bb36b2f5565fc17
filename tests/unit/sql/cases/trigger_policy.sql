-- forward
create trigger trg before update on public.t for each row execute function public.touch();
create policy "Own rows" on public.t for all to authenticated using (auth.uid() = owner);
-- rollback
DROP POLICY IF EXISTS "Own rows" ON public.t;
DROP TRIGGER IF EXISTS trg ON public.t;
