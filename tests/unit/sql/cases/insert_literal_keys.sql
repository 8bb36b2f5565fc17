-- history
create table public.settings (key text primary key, value text);
-- forward
insert into public.settings (key, value) values ('a', '1'), ('b', '2');
-- rollback
DELETE FROM public.settings WHERE key IN ('a', 'b');
