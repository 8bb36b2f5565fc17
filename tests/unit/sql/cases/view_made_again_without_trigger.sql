-- history
create table public.c (id int primary key);
create function public.ins() returns trigger language plpgsql as $$ begin return new; end $$;
create view public.cv as select id from public.c;
create trigger cv_ins instead of insert on public.cv for each row execute function public.ins();
drop view public.cv;
create view public.cv as select id from public.c;
-- forward
drop view public.cv;
-- rollback
create view public.cv as select id from public.c;
