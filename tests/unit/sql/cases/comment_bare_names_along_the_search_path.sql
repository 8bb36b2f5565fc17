-- COMMENT ON a bare name after SET search_path TO app, public: the object the path finds (a
-- table, its column, a routine, a constraint on it), written with that schema (the rollback
-- runs without the migration's path). Before, each was a MANUAL item ("predates the known
-- migrations"): the name was looked up in app alone.
-- history
create schema app;
create table public.docs (id int primary key, body text);
comment on table public.docs is 'documents';
create function public.word_count(text) returns int language sql as 'select 1';
create table app.notes (id int);
-- forward
set search_path to app, public;
comment on table docs is 'all documents';
comment on column docs.body is 'markdown';
comment on function word_count(text) is 'words';
comment on table notes is 'notes';
alter table docs add constraint docs_id_positive check (id > 0);
comment on constraint docs_id_positive on docs is 'ids start at 1';
-- rollback
COMMENT ON CONSTRAINT docs_id_positive ON public.docs IS NULL;
ALTER TABLE public.docs DROP CONSTRAINT IF EXISTS docs_id_positive;
COMMENT ON TABLE app.notes IS NULL;
COMMENT ON FUNCTION public.word_count(text) IS NULL;
COMMENT ON COLUMN public.docs.body IS NULL;
COMMENT ON TABLE public.docs IS 'documents';
