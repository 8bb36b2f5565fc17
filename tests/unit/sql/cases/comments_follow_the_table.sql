-- A comment an earlier migration set goes with its table: moved by a rename, forgotten when
-- the table (or column, constraint) is dropped and made anew, moved with a renamed column.
-- history
create table public.a (id int, c int constraint c_pos check (c > 0));
comment on table public.a is 'first a';
comment on column public.a.c is 'the c';
comment on constraint c_pos on public.a is 'positive';
alter table public.a rename column c to d;
alter table public.a rename to b;
create table public.a (id int, c int);
create table public.x (id int);
comment on table public.x is 'old x';
drop table public.x;
create table public.x (id int);
alter table public.b drop constraint c_pos;
alter table public.b add constraint c_pos check (d > 1);
-- forward
comment on table public.a is 'new a';
comment on table public.b is 'renamed';
comment on column public.b.d is 'the d';
comment on column public.a.c is 'new c';
comment on table public.x is 'new x';
comment on constraint c_pos on public.b is 'more';
-- rollback
COMMENT ON CONSTRAINT c_pos ON public.b IS NULL;
COMMENT ON TABLE public.x IS NULL;
COMMENT ON COLUMN public.a.c IS NULL;
COMMENT ON COLUMN public.b.d IS 'the c';
COMMENT ON TABLE public.b IS 'first a';
COMMENT ON TABLE public.a IS NULL;
