-- history
create table public.d (id int, slug text, x int);
create unique index d_slug_idx on public.d (slug) where slug is not null;
create index on public.d (x);
-- forward
create index on public.d (slug);
create index on public.d (x);
create index on public.d (x);
-- rollback
DROP INDEX IF EXISTS public.d_x_idx2;
DROP INDEX IF EXISTS public.d_x_idx1;
DROP INDEX IF EXISTS public.d_slug_idx1;
