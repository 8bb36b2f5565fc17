-- A UNIQUE, CHECK or REFERENCES written on a column (CREATE TABLE, ADD COLUMN) is named by
-- PostgreSQL (`t_slug_key`); dropped later, it is added back as the table constraint it is the
-- same as, under that name. One written with DEFERRABLE is left to a human (its column's
-- text only says it); one no migration made, dropped IF EXISTS, may not have been there.
-- history
create table public.things (id int primary key, slug text unique, mood int check (mood between 1 and 5));
create table public.other (id int primary key);
alter table public.things add column other_id int references public.other (id);
alter table public.things add column code text unique deferrable;
-- forward
alter table public.things drop constraint things_slug_key;
alter table public.things drop constraint if exists things_mood_check;
alter table public.things drop constraint things_other_id_fkey;
alter table public.things drop constraint things_code_key;
alter table public.things drop constraint if exists never_made_check;
-- manual
RECREATE_DROPPED RECREATE_DROPPED
-- rollback
ALTER TABLE public.things ADD CONSTRAINT things_other_id_fkey FOREIGN KEY (other_id) REFERENCES public.other (id);
ALTER TABLE public.things ADD CONSTRAINT things_mood_check CHECK (mood BETWEEN 1 AND 5);
ALTER TABLE public.things ADD CONSTRAINT things_slug_key UNIQUE (slug);
