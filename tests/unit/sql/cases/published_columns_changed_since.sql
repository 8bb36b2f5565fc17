-- A table added to a publication with a column list or WHERE is added back so only while its
-- columns stay as they were: a column renamed or dropped since then leaves it by hand (a table
-- renamed does not); one added by name alone is added back by name.
-- history
create table public.t (id int primary key, a int, b int);
create publication p for table public.t (id, a);
alter table public.t rename column a to tmp;
alter table public.t rename column b to a;
alter table public.t rename column tmp to b;
create table public.w (id int primary key, a int, c int);
create publication q for table public.w where (a > 0);
alter table public.w drop column c;
create table public.x (id int primary key, a int);
create publication r for table public.x (id, a);
alter table public.x rename to y;
create table public.z (id int primary key, a int);
create publication s for table public.z;
alter table public.z rename column a to b;
-- forward
alter publication p drop table public.t;
alter publication q drop table public.w;
alter publication r drop table public.y;
alter publication s drop table public.z;
-- manual
PRIOR_DEFINITION PRIOR_DEFINITION
-- rollback
ALTER PUBLICATION s ADD TABLE public.z;
ALTER PUBLICATION r ADD TABLE public.y(id, a);
