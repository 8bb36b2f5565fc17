-- history
create table public.names (
  id int primary key,
  sort_key text collate "C" not null default 'a',
  label text collate "C",
  plain text
);
alter table public.names alter column label type varchar(20);
-- forward
alter table public.names drop column sort_key;
alter table public.names drop column label;
alter table public.names drop column plain;
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
ALTER TABLE public.names ADD COLUMN IF NOT EXISTS plain text;
ALTER TABLE public.names ADD COLUMN IF NOT EXISTS label varchar(20);
ALTER TABLE public.names ADD COLUMN IF NOT EXISTS sort_key text COLLATE "C" DEFAULT 'a';
