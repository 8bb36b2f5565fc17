-- The enum swap: the type renamed aside, made again with other labels, the column converted,
-- the old type dropped. The dropped type is made again from its CREATE in the history (with
-- the values ADD VALUE gave it since, where they went), under the name it had when dropped;
-- the column goes back to it and the rename is undone last.
-- history
create type public.mood as enum ('a', 'b');
create table public.t (id int primary key, m public.mood);
alter type public.mood add value 'z' before 'a';
alter type public.mood add value if not exists 'y';
alter type public.mood add value if not exists 'a';
-- forward
alter type public.mood rename to mood_old;
create type public.mood as enum ('a', 'b', 'c');
alter table public.t alter column m type public.mood using m::text::public.mood;
drop type public.mood_old;
-- rollback
CREATE TYPE public.mood_old AS ENUM ('z', 'a', 'b', 'y');
ALTER TABLE public.t ALTER COLUMN m TYPE public.mood_old USING m::text::public.mood_old;
DROP TYPE IF EXISTS public.mood;
ALTER TYPE public.mood_old RENAME TO mood;
