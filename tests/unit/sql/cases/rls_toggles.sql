-- forward
alter table public.t enable row level security;
alter table public.t force row level security;
alter table public.u disable row level security;
-- rollback
ALTER TABLE public.u ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.t NO FORCE ROW LEVEL SECURITY;
ALTER TABLE public.t DISABLE ROW LEVEL SECURITY;
