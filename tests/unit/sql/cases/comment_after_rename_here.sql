-- A comment on a table or column this migration renamed first is undone to the comment it had
-- under its earlier name (it was set back to none, or left by hand).
-- history
create table public.t (id int primary key, a int);
comment on column public.t.a is 'orig column';
create table public.w (id int primary key);
comment on table public.w is 'orig table';
-- forward
alter table public.t rename column a to b;
comment on column public.t.b is 'new';
alter table public.w rename to u;
comment on table public.u is 'new';
-- manual

-- rollback
COMMENT ON TABLE public.u IS 'orig table';
ALTER TABLE IF EXISTS public.u RENAME TO w;
COMMENT ON COLUMN public.t.b IS 'orig column';
ALTER TABLE public.t RENAME COLUMN b TO a;
