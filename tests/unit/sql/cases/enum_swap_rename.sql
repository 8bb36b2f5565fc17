-- The enum swap: the old type renamed aside, a new one created under its name, the column
-- converted, the old one dropped. The rollback undoes the rename last, so until then the old
-- type is called by the name the rename gave it (and is recreated under that name, from its
-- CREATE in the history: enum_swap_renamed_aside.sql).
-- history
create type public.contact_role as enum ('a', 'b');
create table public.contacts (id int primary key, poste public.contact_role);
-- forward
alter type public.contact_role rename to contact_role_old;
create type public.contact_role as enum ('a', 'b', 'c');
alter table public.contacts alter column poste type public.contact_role
  using poste::text::public.contact_role;
drop type public.contact_role_old;
-- rollback
CREATE TYPE public.contact_role_old AS ENUM ('a', 'b');
ALTER TABLE public.contacts ALTER COLUMN poste TYPE public.contact_role_old
  USING poste::text::public.contact_role_old;
DROP TYPE IF EXISTS public.contact_role;
ALTER TYPE public.contact_role_old RENAME TO contact_role;
