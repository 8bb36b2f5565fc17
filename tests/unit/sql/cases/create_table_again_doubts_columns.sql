-- history
create table if not exists public.s (id int, a text);
create table public.s (id int);
-- forward
alter table public.s add column if not exists a text, add column if not exists b int;
-- manual
PRIOR_DEFINITION
-- rollback
ALTER TABLE public.s DROP COLUMN IF EXISTS b;
