-- A routine called anywhere a top-level statement can call one runs code the history cannot
-- follow: in INSERT, UPDATE, DELETE, CREATE TABLE AS and DO too. A migration's routine is read
-- with what its body calls: a call in it of a routine made elsewhere (or a body that cannot be
-- read) may switch any table's triggers, as a call made elsewhere at top level does even when
-- it names no table. Routines are keyed by schema and name: a platform's audit.quiet is not
-- the migration's public.quiet. set_config('search_path', 'app', …) is a SET search_path; one
-- set at run time leaves the rollback's unqualified names unsure (by hand).
-- history
create function public.f() returns trigger language plpgsql as $$begin return new; end$$;
create table public.cfg (k text primary key, v text);
create table public.ins (id int primary key);
create trigger t_ins before update on public.ins for each row execute function public.f();
create function public.pause() returns text language plpgsql
  as $$ begin alter table public.ins disable trigger t_ins; return 'p'; end $$;
insert into public.cfg values ('s', public.pause());
create table public.upd (id int primary key);
create trigger t_upd before update on public.upd for each row execute function public.f();
create function public.pause_upd() returns text language plpgsql
  as $$ begin alter table public.upd disable trigger t_upd; return 'p'; end $$;
update public.cfg set v = public.pause_upd();
create table public.body (id int primary key);
create trigger t_body before update on public.body for each row execute function public.f();
create function public.quiet() returns void language sql
  as $$ select audit.pause_triggers('public.body') $$;
select public.quiet();
create table public.assign (id int primary key);
create trigger t_assign before update on public.assign for each row execute function public.f();
create function public.quiet2() returns void language plpgsql
  as $$ declare x text; begin x := audit.f('public.assign'); end $$;
select public.quiet2();
create table public.alls (id int primary key);
create trigger t_alls before update on public.alls for each row execute function public.f();
select audit.pause_all_triggers();
create table public.indo (id int primary key);
create trigger t_indo before update on public.indo for each row execute function public.f();
do $$ begin perform audit.pause_all_triggers(); end $$;
create table public.same (id int primary key);
create trigger t_same before update on public.same for each row execute function public.f();
create function public.quiet3() returns int language sql as $$ select 1 $$;
select audit.quiet3('public.same');
create table public.kept (id int primary key);
create trigger t_kept before update on public.kept for each row execute function public.f();
create function public.is_admin() returns boolean language sql stable
  as $$ select exists (select 1 from public.kept) $$;
insert into public.cfg values ('a', public.is_admin()::text);
-- forward
alter table public.ins enable trigger t_ins;
alter table public.upd enable trigger t_upd;
alter table public.body enable trigger t_body;
alter table public.assign enable trigger t_assign;
alter table public.alls enable trigger t_alls;
alter table public.indo enable trigger t_indo;
alter table public.same enable trigger t_same;
alter table public.kept disable trigger t_kept;
select set_config('search_path', 'app', false);
create table t (a int);
select set_config('search_path', current_setting('app.schema'), false);
-- manual
UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED UNSUPPORTED
-- rollback
DROP TABLE IF EXISTS app.t;
ALTER TABLE public.kept ENABLE TRIGGER t_kept;
