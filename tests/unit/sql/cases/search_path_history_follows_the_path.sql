-- history
create schema app;
create table public.t (id int);
set search_path to app, public;
alter table t add column c int default 3;
create table gone_again (id int);
drop table gone_again;
-- forward
alter table public.t alter column c set default 5;
create table if not exists app.gone_again (id int);
-- manual
PRIOR_DEFINITION
-- rollback
ALTER TABLE public.t ALTER COLUMN c SET DEFAULT 3;
