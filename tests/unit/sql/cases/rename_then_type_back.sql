-- A column renamed (in an earlier migration and in this one) keeps what is known of its type:
-- the type change is undone to the type the column had under its earlier name.
-- history
create table public.builds (id int primary key, message_id uuid);
alter table public.builds rename column message_id to message_ids;
alter table public.builds alter column message_ids type uuid[] using array[message_ids];
-- forward
alter table public.builds rename column message_ids to message_id;
alter table public.builds alter column message_id type uuid using (message_id[1]);
-- rollback
ALTER TABLE public.builds ALTER COLUMN message_id TYPE uuid[] USING ARRAY[message_id::uuid];
ALTER TABLE public.builds RENAME COLUMN message_id TO message_ids;
