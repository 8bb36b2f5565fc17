-- An object dropped or replaced here whose earlier text names a table renamed or moved since is
-- recreated naming the table as it is called where the rollback recreates it, when the table
-- is all that changed in what it says: an index on a table set aside (the backup-rename
-- pattern), a view over a table renamed since (dropped, or replaced); a view that also says
-- the old name in `t.id`, or names a column renamed before the table was, or reads a `*` of a
-- table that gained a column, is recreated by hand. An unnamed index keeps its name (PostgreSQL
-- would name it after the table as it is now); a view naming the table in a literal
-- (`'public.t'::regclass`) or saying its new name (`t2.k` of another t2, which the renamed one
-- would take) is recreated by hand.
-- history
create table public.t (id int primary key, a int);
create index i on public.t (a);
create view public.v as select id, a from public.t where a > 0;
create view public.vq as select t.id from public.t;
create view public.vr as select id, a from public.t;
create index on public.t (id, a);
create table public.o (id int primary key, k int);
create view public.vo as select t2.id, (select count(*) from public.t where a = t2.k) as n from public.o t2;
create view public.vc as select id from public.t where tableoid = 'public.t'::regclass;
create table public.u (id int primary key, b int);
create view public.vu as select b from public.u;
create view public.vs as select * from public.u;
alter table public.u rename column b to c;
alter table public.u rename to u2;
alter table public.u2 add column d int;
alter table public.t rename to t2;
create table public.w (id int primary key, x int);
create index wi on public.w (x);
-- forward
create or replace view public.vr as select id, a, 1 as one from public.t2;
drop index public.i;
drop view public.v;
drop view public.vq;
drop view public.vu;
drop view public.vs;
drop index public.t_id_a_idx;
drop view public.vo;
drop view public.vc;
alter table public.w rename to w_bkp;
drop index public.wi;
create table public.w (id int primary key, x int);
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
DROP TABLE IF EXISTS public.w;
CREATE INDEX wi ON public.w_bkp (x);
ALTER TABLE IF EXISTS public.w_bkp RENAME TO w;
CREATE INDEX t_id_a_idx ON public.t2 (id, a);
CREATE VIEW public.v AS SELECT id, a FROM public.t2 WHERE a > 0;
CREATE INDEX i ON public.t2 (a);
DROP VIEW IF EXISTS public.vr;
CREATE VIEW public.vr AS SELECT id, a FROM public.t2;
