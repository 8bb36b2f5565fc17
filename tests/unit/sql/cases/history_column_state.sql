-- history
create table public.p (id int primary key, bio text, name text not null default 'x');
-- forward
alter table public.p alter column bio type varchar(100);
alter table public.p alter column bio set default '';
alter table public.p alter column name drop not null;
alter table public.p alter column name drop default;
-- rollback
ALTER TABLE public.p ALTER COLUMN name SET DEFAULT 'x';
ALTER TABLE public.p ALTER COLUMN name SET NOT NULL;
ALTER TABLE public.p ALTER COLUMN bio DROP DEFAULT;
ALTER TABLE public.p ALTER COLUMN bio TYPE text USING bio::text;
