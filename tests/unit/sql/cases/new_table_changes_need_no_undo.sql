-- forward
create table public.n (id int, v text);
alter table public.n alter column v type varchar(10);
alter table public.n alter column v set not null;
insert into public.n (id, v) values (1, 'a');
comment on table public.n is 'new';
-- rollback
COMMENT ON TABLE public.n IS NULL;
DROP TABLE IF EXISTS public.n;
