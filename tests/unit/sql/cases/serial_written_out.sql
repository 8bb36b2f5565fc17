-- A serial column written out as pg_dump (supabase db pull) writes it: the table, then its
-- sequence, OWNED BY, and the default set last. The rollback drops the sequence before the table,
-- so the default lets go of it first; OWNED BY on a sequence made here needs nothing.
-- forward
create table public.html (id integer not null, body text);
create sequence public.html_id_seq as integer start with 1 increment by 1;
alter sequence public.html_id_seq owned by public.html.id;
alter table only public.html alter column id set default nextval('public.html_id_seq'::regclass);
alter table only public.html alter column body set default '';
-- rollback
ALTER TABLE ONLY public.html ALTER COLUMN id DROP DEFAULT;
DROP SEQUENCE IF EXISTS public.html_id_seq;
DROP TABLE IF EXISTS public.html;
