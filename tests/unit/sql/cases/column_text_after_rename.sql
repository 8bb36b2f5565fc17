-- A column is recreated, or its default or type set back, from the text an earlier migration
-- wrote only while the names it says mean the same: an expression naming a column renamed
-- since, a default calling a routine or sequence renamed since, a type in a schema renamed
-- since leave it to a human. A type renamed is followed exactly (the history writes the new
-- name), and a column whose text names nothing renamed is recreated.
-- history
create schema ts;
create type ts.mood as enum ('ok', 'bad');
create sequence public.counter;
create function public.next_code() returns int language sql as 'select 1';
create type public.kind as enum ('a', 'b');
create table public.t (
  id int primary key,
  a int,
  total int generated always as (a * 2) stored,
  code int default public.next_code(),
  n bigint default nextval('public.counter'),
  m ts.mood,
  k public.kind default 'a',
  plain text default 'x'
);
alter table public.t rename column a to b;
alter function public.next_code() rename to next_code2;
alter sequence public.counter rename to counter2;
alter schema ts rename to ts2;
alter type public.kind rename to kind2;
-- forward
alter table public.t drop column total;
alter table public.t alter column code set default 0;
alter table public.t alter column n drop default;
alter table public.t alter column m type text;
alter table public.t alter column k drop default;
alter table public.t drop column plain;
-- manual
RECREATE_DROPPED PRIOR_COLUMN_TYPE PRIOR_COLUMN_DEFAULT PRIOR_COLUMN_DEFAULT RECREATE_DROPPED
-- rollback
ALTER TABLE public.t ADD COLUMN IF NOT EXISTS plain text DEFAULT 'x';
ALTER TABLE public.t ALTER COLUMN k SET DEFAULT 'a';
