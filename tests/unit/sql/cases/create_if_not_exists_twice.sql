-- The same CREATE … IF NOT EXISTS written twice in one migration (a comment after each): the
-- second made nothing, so only the undo of the first drops it, after both comments are
-- cleared. Made again after a DROP here, it is new again. (Every object here is surely new:
-- made in this migration, or on a table made in it; see if_not_exists_made_elsewhere.sql.)
-- forward
create table public.t (id int primary key, a int);
create index if not exists t_a_idx on public.t (a);
comment on index public.t_a_idx is 'one';
create index if not exists t_a_idx on public.t (a);
comment on index public.t_a_idx is 'two';
create table public.n (id int);
create table if not exists public.n (id int);
drop table public.n;
create table if not exists public.n (id int);
-- manual
RECREATE_DROPPED
-- rollback
DROP TABLE IF EXISTS public.n;
DROP TABLE IF EXISTS public.n;
COMMENT ON INDEX public.t_a_idx IS NULL;
COMMENT ON INDEX public.t_a_idx IS NULL;
DROP INDEX IF EXISTS public.t_a_idx;
DROP TABLE IF EXISTS public.t;
