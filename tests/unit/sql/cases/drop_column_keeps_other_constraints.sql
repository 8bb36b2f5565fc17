-- history
create table public.profile (id int primary key);
create table public.course (id int primary key, user_id int, constraint course_user_id_fkey foreign key (user_id) references public.profile (id));
-- forward
alter table public.course drop column id;
-- manual
RECREATE_DROPPED
-- rollback
ALTER TABLE public.course ADD COLUMN IF NOT EXISTS id integer;
ALTER TABLE public.course ADD CONSTRAINT course_pkey PRIMARY KEY (id);
