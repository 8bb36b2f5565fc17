-- history
create table public.t (id bigint generated always as identity (start with 100) primary key, email text, n int check (n > 0));
create index idx_t_email on public.t (email);
comment on column public.t.email is 'mail';
create table public.inv (id int primary key);
create function public.del_inv() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger del_inv_tr after update on public.inv for each row execute function public.del_inv();
create view public.vv as select id from public.inv;
create trigger vv_tr instead of insert on public.vv for each row execute function public.del_inv();
-- forward
drop view public.vv;
drop function public.del_inv() cascade;
alter table public.t drop column email;
alter table public.t drop column id;
alter table public.t drop column n;
-- manual
RECREATE_DROPPED RECREATE_DROPPED RECREATE_DROPPED
-- rollback
ALTER TABLE public.t ADD COLUMN IF NOT EXISTS n integer;
ALTER TABLE public.t ADD CONSTRAINT t_n_check CHECK (n > 0);
ALTER TABLE public.t ADD COLUMN IF NOT EXISTS id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100);
ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
ALTER TABLE public.t ADD COLUMN IF NOT EXISTS email text;
create index idx_t_email on public.t (email);
COMMENT ON COLUMN public.t.email IS 'mail';
create function public.del_inv() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger del_inv_tr after update on public.inv for each row execute function public.del_inv();
create view public.vv as select id from public.inv;
create trigger vv_tr instead of insert on public.vv for each row execute function public.del_inv();
