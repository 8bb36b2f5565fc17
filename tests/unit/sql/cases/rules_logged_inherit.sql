-- A rule's switch goes back to how it fired (CREATE RULE: on origin; OR REPLACE keeps the
-- switch), a table's persistence to LOGGED or UNLOGGED as made, INHERIT to NO INHERIT. A rule
-- dropped or replaced is recreated from its earlier text, its switch set again.
-- history
create table public.t (id int);
create unlogged table public.scratch (id int);
create rule r as on insert to public.t do also notify t;
alter table public.t disable rule r;
create or replace rule r as on insert to public.t do also notify t;
create rule q as on update to public.t do also notify t;
alter table public.t enable replica rule q;
create table public.parent (id int);
-- forward
alter table public.t enable rule r;
alter table public.t disable rule q;
alter table public.t set unlogged;
alter table public.scratch set logged;
alter table public.t set logged;
alter table public.t inherit public.parent;
alter table public.elsewhere set unlogged;
create or replace rule r as on insert to public.t do also notify t2;
drop rule q on public.t;
-- manual
UNSUPPORTED
-- rollback
CREATE RULE q AS ON UPDATE TO public.t DO ALSO NOTIFY t;
ALTER TABLE public.t ENABLE REPLICA RULE q;
CREATE OR REPLACE RULE r AS ON INSERT TO public.t DO ALSO NOTIFY t;
ALTER TABLE public.t DISABLE RULE r;
ALTER TABLE public.t NO INHERIT public.parent;
ALTER TABLE public.scratch SET UNLOGGED;
ALTER TABLE public.t SET LOGGED;
ALTER TABLE public.t ENABLE REPLICA RULE q;
ALTER TABLE public.t DISABLE RULE r;
