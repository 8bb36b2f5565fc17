-- history
create table public.flags (id int primary key, active boolean, score numeric(10, 2), code uuid, tags boolean[], at timestamptz);
-- forward
alter table public.flags alter column active type smallint using active::int::smallint;
alter table public.flags alter column score type integer;
alter table public.flags alter column code type text;
alter table public.flags alter column tags type text[];
alter table public.flags alter column at type date;
-- rollback
ALTER TABLE public.flags ALTER COLUMN at TYPE timestamptz USING at::timestamptz;
ALTER TABLE public.flags ALTER COLUMN tags TYPE boolean[] USING tags::boolean[];
ALTER TABLE public.flags ALTER COLUMN code TYPE uuid USING code::uuid;
ALTER TABLE public.flags ALTER COLUMN score TYPE numeric(10, 2) USING score::numeric(10, 2);
ALTER TABLE public.flags ALTER COLUMN active TYPE boolean USING active::text::boolean;
