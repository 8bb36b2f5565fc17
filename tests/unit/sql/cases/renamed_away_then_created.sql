-- A table renamed aside and created again under its name (CREATE TABLE IF NOT EXISTS): the
-- new table is this migration's, whatever existed before under that name.
-- history
create table public.totp (id int primary key, secret text);
-- forward
alter table public.totp rename to totp_backup;
create table if not exists public.totp (id serial primary key, secret bytea);
-- rollback
DROP TABLE IF EXISTS public.totp;
ALTER TABLE IF EXISTS public.totp_backup RENAME TO totp;
