-- history
create table public.people (
  id int primary key,
  first_name text not null,
  last_name text not null,
  full_name text generated always as (first_name || ' ' || last_name) stored,
  initials text generated always as (left(first_name, 1) || left(last_name, 1)) stored not null,
  plain text default 'x'
);
alter table public.people alter column initials drop expression;
-- forward
alter table public.people drop column full_name;
alter table public.people drop column initials;
-- manual
RECREATE_DROPPED
-- rollback
ALTER TABLE public.people ADD COLUMN IF NOT EXISTS initials text;
ALTER TABLE public.people ADD COLUMN IF NOT EXISTS full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED;
