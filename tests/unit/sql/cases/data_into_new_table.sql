-- history
create table public.old (id int primary key, v text);
-- forward
create table public.roles (id serial primary key, name text unique);
insert into public.roles (name) select v from public.old;
update public.roles set name = upper(name);
delete from public.roles where name = '';
merge into public.roles r using public.old o on r.name = o.v when matched then delete;
update public.old set v = 'x';
-- manual
DATA_CHANGE
-- rollback
DROP TABLE IF EXISTS public.roles;
