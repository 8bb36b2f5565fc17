-- COMMENT finds earlier migrations' objects by the registry's kind (materialized view, server),
-- reads names without a schema (schema, server) and on a table (trigger, constraint); a column
-- added here leaves its table old, so the table's comment is restored, not removed.
-- history
create table public.docs (id int primary key, constraint docs_id_positive check (id > 0));
comment on table public.docs is 'documented';
create materialized view public.doc_counts as select count(*) as n from public.docs;
comment on materialized view public.doc_counts is 'counted';
create foreign data wrapper files;
create server file_server foreign data wrapper files;
comment on server file_server is 'remote';
create trigger docs_touch before update on public.docs for each row execute function f();
create schema reporting;
-- forward
alter table public.docs add column title text;
comment on table public.docs is 'with titles';
comment on materialized view public.doc_counts is 'recounted';
comment on server file_server is 'elsewhere';
comment on trigger docs_touch on public.docs is 'touched';
comment on constraint docs_id_positive on public.docs is 'positive';
comment on schema reporting is 'reports';
-- rollback
COMMENT ON SCHEMA reporting IS NULL;
COMMENT ON CONSTRAINT docs_id_positive ON public.docs IS NULL;
COMMENT ON TRIGGER docs_touch ON public.docs IS NULL;
COMMENT ON SERVER file_server IS 'remote';
COMMENT ON MATERIALIZED VIEW public.doc_counts IS 'counted';
COMMENT ON TABLE public.docs IS 'documented';
ALTER TABLE public.docs DROP COLUMN IF EXISTS title;
