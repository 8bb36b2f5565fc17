-- forward
alter publication supabase_realtime add table public.messages, public.rooms;
-- rollback
ALTER PUBLICATION supabase_realtime DROP TABLE public.messages, public.rooms;
