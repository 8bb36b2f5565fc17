-- The enum swap: the old type renamed aside, a new one created under its name, the column
-- converted, the old one dropped. The rollback undoes the rename last, so until then the old
-- type is called by the name the rename gave it (and is recreated under that name, from the
-- definition the shadow knows by the original name: the MANUAL item names both).
-- history
create type public.contact_role as enum ('a', 'b');
create table public.contacts (id int primary key, poste public.contact_role);
-- forward
alter type public.contact_role rename to contact_role_old;
create type public.contact_role as enum ('a', 'b', 'c');
alter table public.contacts alter column poste type public.contact_role
  using poste::text::public.contact_role;
drop type public.contact_role_old;
-- manual
RECREATE_DROPPED
-- rollback
ALTER TABLE public.contacts ALTER COLUMN poste TYPE public.contact_role_old
  USING poste::text::public.contact_role_old;
DROP TYPE IF EXISTS public.contact_role;
ALTER TYPE public.contact_role_old RENAME TO contact_role;
