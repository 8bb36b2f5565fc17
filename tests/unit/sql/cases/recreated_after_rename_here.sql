-- The rollback undoes a migration's statements last to first: an object this migration drops
-- after renaming a column its earlier text names is recreated while the column still has the
-- new name (by hand); one dropped before the rename is recreated after the rename is undone.
-- A table dropped from a publication after renaming a column of its column list is added back
-- before the rename is undone: by hand too.
-- history
create table public.t (id int primary key, a int, c int);
create table public.u (id int primary key, k int);
create policy p on public.t using (a > 0);
create policy q on public.u using (k > 0);
create view public.v as select * from public.u;
create function public.f() returns int language sql as 'select k from public.u';
create publication pub for table public.t (id, a);
create publication pub2 for table public.u (id, k);
-- forward
drop policy q on public.u;
drop function public.f();
alter publication pub2 drop table public.u;
alter table public.u rename column k to kk;
alter table public.t rename column a to b;
drop policy p on public.t;
alter publication pub drop table public.t;
alter table public.u rename column kk to k2;
drop view public.v;
-- manual
RECREATE_DROPPED PRIOR_DEFINITION RECREATE_DROPPED
-- rollback
ALTER TABLE public.u RENAME COLUMN k2 TO kk;
ALTER TABLE public.t RENAME COLUMN b TO a;
ALTER TABLE public.u RENAME COLUMN kk TO k;
ALTER PUBLICATION pub2 ADD TABLE public.u(id, k);
create function public.f() returns int language sql as 'select k from public.u';
create policy q on public.u using (k > 0);
