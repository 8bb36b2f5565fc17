-- The column swap: a new column added, the old one dropped, the new one renamed to the old
-- name and given a default. That column is new in this migration: its default needs no
-- restoring (the old column's default comes back with the old column).
-- history
create table public.leads (id int primary key, status text not null default 'NEW');
-- forward
alter table public.leads add column if not exists status_new text;
alter table public.leads drop column status;
alter table public.leads rename column status_new to status;
alter table public.leads alter column status set default 'OPEN';
-- manual
RECREATE_DROPPED
-- rollback
ALTER TABLE public.leads RENAME COLUMN status TO status_new;
ALTER TABLE public.leads ADD COLUMN IF NOT EXISTS status text DEFAULT 'NEW';
ALTER TABLE public.leads DROP COLUMN IF EXISTS status_new;
