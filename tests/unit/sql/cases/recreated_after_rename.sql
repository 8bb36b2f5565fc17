-- An object dropped here is recreated from an earlier migration's text only while the names
-- that text says still mean the same: a column, table or routine renamed since, an enum value
-- renamed (a literal), or a column added to a table a `*` reads leave it to a human. A PL/pgSQL
-- body is stored as written and resolved when called: it is recreated; a LANGUAGE sql body is
-- checked when created, so it counts.
-- history
create table public.o (id int primary key, x int unique);
create table public.t (id int primary key, a int, c int);
create policy p on public.t using (a > 0);
create policy q on public.t using (c > 0);
create view public.v as select a from public.t;
create view public.vs as select * from public.o;
create view public.vc as select c from public.t;
create index i on public.t (a);
create index j on public.t (c) where a > 0;
create function public.tf() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tr before update of a on public.t for each row execute function public.tf();
create trigger tw before update on public.t for each row when (new.c > 0)
  execute function public.tf();
alter table public.t add constraint ck check (a > 0);
alter table public.t add constraint fk foreign key (c) references public.o (x);
create function public.fs() returns int language sql as 'select a from public.t';
create function public.fp() returns int language plpgsql
  as 'begin return (select a from public.t limit 1); end';
create type public.st as enum ('on', 'off');
create table public.e (s public.st);
create policy ep on public.e using (s = 'on');
create function public.g() returns int language sql as 'select 1';
create policy gp on public.e using (public.g() > 0);
create schema s;
create table s.k (id int);
create view public.vk as select id from s.k;
create type public.ty as enum ('x');
create view public.vt as select 'x'::public.ty as v;
create sequence public.sq;
create view public.vq as select nextval('public.sq') as n;
alter schema s rename to s2;
alter type public.ty rename to ty2;
alter sequence public.sq rename to sq2;
alter table public.t rename column a to b;
alter table public.o rename column x to y;
alter table public.o add column z int;
alter type public.st rename value 'on' to 'up';
alter function public.g() rename to h;
-- forward
drop policy p on public.t;
drop policy q on public.t;
drop view public.v;
drop view public.vs;
drop view public.vc;
drop index public.i;
drop index public.j;
drop trigger tr on public.t;
drop trigger tw on public.t;
alter table public.t drop constraint ck;
alter table public.t drop constraint fk;
drop function public.fs();
drop function public.fp();
drop policy ep on public.e;
drop policy gp on public.e;
drop view public.vk;
drop view public.vt;
drop view public.vq;
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
create function public.fp() returns int language plpgsql
  as 'begin return (select a from public.t limit 1); end';
create trigger tw before update on public.t for each row when (new.c > 0)
  execute function public.tf();
create view public.vc as select c from public.t;
create policy q on public.t using (c > 0);
