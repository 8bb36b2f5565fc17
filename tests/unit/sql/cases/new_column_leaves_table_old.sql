-- A column added to a table earlier migrations made does not make the table new: its owner
-- change is given back and its comment restored (not removed), its trigger's comment reset.
-- history
create table public.docs (id int primary key);
comment on table docs is 'documented';
create trigger docs_touch before update on public.docs for each row execute function f();
-- forward
alter table public.docs add column title text;
alter table public.docs owner to reporting;
comment on table public.docs is 'with titles';
comment on trigger docs_touch on docs is 'touched';
-- manual
PRIOR_OWNER
-- rollback
COMMENT ON TRIGGER docs_touch ON public.docs IS NULL;
COMMENT ON TABLE public.docs IS 'documented';
ALTER TABLE public.docs DROP COLUMN IF EXISTS title;
