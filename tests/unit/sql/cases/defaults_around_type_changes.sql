-- history
create type public.order_status as enum ('pending', 'paid');
create table public.orders (id int primary key, status text not null default 'pending', qty int default 0);
-- forward
alter table public.orders alter column status drop default;
alter table public.orders alter column status type public.order_status using status::public.order_status;
alter table public.orders alter column status set default 'pending'::public.order_status;
alter table public.orders alter column qty type bigint;
alter table public.orders alter column qty set default 1;
alter table public.orders alter column qty drop not null, alter column qty set not null;
-- rollback
ALTER TABLE public.orders ALTER COLUMN qty DROP NOT NULL;
ALTER TABLE public.orders ALTER COLUMN qty SET DEFAULT 0;
ALTER TABLE public.orders ALTER COLUMN qty DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN qty TYPE integer USING qty::integer;
ALTER TABLE public.orders ALTER COLUMN qty SET DEFAULT 0;
ALTER TABLE public.orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE public.orders ALTER COLUMN status TYPE text USING status::text;
ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'pending';
-- manual
