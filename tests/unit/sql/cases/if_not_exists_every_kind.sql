-- IF NOT EXISTS of an object earlier migrations made changed nothing, whatever its kind:
-- schemas, sequences, extensions, indexes, servers, foreign tables, materialized views, columns.
-- history
create schema reporting;
create sequence public.report_seq;
create extension hstore;
create table public.reports (id int primary key, note text);
create index reports_note_idx on public.reports (note);
create foreign data wrapper files;
create server file_server foreign data wrapper files;
create foreign table public.remote_reports (id int) server file_server;
create materialized view public.report_counts as select 1 as n;
-- forward
create schema if not exists reporting;
create sequence if not exists public.report_seq;
create extension if not exists hstore;
create index if not exists reports_note_idx on public.reports (note);
create server if not exists file_server foreign data wrapper files;
create foreign table if not exists public.remote_reports (id int) server file_server;
create materialized view if not exists public.report_counts as select 1 as n;
alter table public.reports add column if not exists note text;
create schema if not exists fresh;
-- manual
PRIOR_DEFINITION
-- rollback
