-- A DO block that only reads and raises notices naming a table (a check at a migration's end)
-- changes none of its settings: the trigger switch is still known, its undo exact. One with
-- DDL naming the table, a routine called (PERFORM, CALL, a routine the migrations made) or
-- SQL built at run time leaves them unknown (create_as_and_unread_sql.sql, unread_sql_calls.sql).
-- history
create table public.t (id int primary key);
create function public.f() returns trigger language plpgsql as $$begin return new; end$$;
create trigger tg before update on public.t for each row execute function public.f();
do $$ declare n int; begin select count(*) into n from public.t; raise notice 'Tables created: t (%)', n; end $$;
-- forward
alter table public.t disable trigger tg;
-- rollback
ALTER TABLE public.t ENABLE TRIGGER tg;
