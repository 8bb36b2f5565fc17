-- A plain CREATE makes a new object whatever the name held before (dropped by CASCADE, renamed
-- away, its schema dropped): its owner, comment and settings start over, so an undo of an
-- OWNER TO is by hand and a comment goes back to none. ALTER ROUTINE names a function or a
-- procedure: by hand.
-- history
create table public.t (id int primary key, a int);
create view public.v as select * from public.t;
alter view public.v owner to r1;
comment on view public.v is 'old';
drop table public.t cascade;
create table public.t (id int primary key, a int);
create view public.v as select * from public.t;
create table public.w (id int primary key);
alter table public.w owner to r1;
comment on table public.w is 'x';
alter index public.w rename to w_old;
create table public.w (id int primary key);
create schema s;
comment on schema s is 'old schema';
alter schema s owner to r1;
create function public.g() returns int language sql as $$select 1$$;
comment on function public.g() is 'old fn';
alter function public.g() owner to r1;
drop function public.g();
drop schema s;
create schema s;
create function public.g() returns int language sql as $$select 2$$;
create function public.f() returns int language sql as $$select 1$$;
alter function public.f() owner to r1;
alter function public.f() rename to f_old;
create function public.f() returns int language sql as $$select 2$$;
create type public.e as enum ('a');
alter type public.e owner to r1;
alter type public.e rename to e_old;
create type public.e as enum ('b');
create schema s2;
alter schema s2 owner to r1;
create function s2.h() returns int language sql as $$select 1$$;
alter function s2.h() owner to r1;
create type public.e2 as enum ('a');
alter type public.e2 owner to r1;
-- forward
alter view public.v owner to r2;
comment on view public.v is 'new';
alter table public.w owner to r2;
comment on table public.w is 'y';
comment on schema s is 'new';
comment on function public.g() is 'new';
alter function public.f() owner to r2;
alter type public.e owner to r2;
alter type public.e2 owner to r2;
alter schema s2 owner to r2;
alter routine s2.h owner to r2;
-- manual
UNSUPPORTED PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER
-- rollback
ALTER SCHEMA s2 OWNER TO r1;
ALTER TYPE public.e2 OWNER TO r1;
COMMENT ON FUNCTION public.g () IS NULL;
COMMENT ON SCHEMA s IS NULL;
COMMENT ON TABLE public.w IS NULL;
COMMENT ON VIEW public.v IS NULL;
