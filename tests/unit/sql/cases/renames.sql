-- forward
alter table public.a rename to b;
alter table public.b rename column x to y;
alter table public.b rename constraint c1 to c2;
alter table public.b set schema archive;
-- rollback
ALTER TABLE IF EXISTS archive.b SET SCHEMA public;
ALTER TABLE public.b RENAME CONSTRAINT c2 TO c1;
ALTER TABLE public.b RENAME COLUMN y TO x;
ALTER TABLE IF EXISTS public.b RENAME TO a;
