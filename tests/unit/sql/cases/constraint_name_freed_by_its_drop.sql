-- history
create table public.devices (
  uuid text primary key,
  user_uuid text not null,
  atype int check (atype > 0)
);
-- forward
alter table devices drop constraint devices_pkey;
alter table devices add primary key (uuid, user_uuid);
alter table devices drop constraint devices_atype_check;
alter table devices add check (atype > 1);
-- rollback
ALTER TABLE public.devices DROP CONSTRAINT IF EXISTS devices_atype_check;
ALTER TABLE public.devices ADD CONSTRAINT devices_atype_check CHECK (atype > 0);
ALTER TABLE public.devices DROP CONSTRAINT IF EXISTS devices_pkey;
ALTER TABLE public.devices ADD CONSTRAINT devices_pkey PRIMARY KEY (uuid);
