-- history
create table public.r (id int, u int, e int);
create unique index r_u_e_key on public.r using btree (u, e);
alter table public.r add constraint r_u_e_key unique using index r_u_e_key;
-- forward
alter table public.r drop constraint r_u_e_key;
drop index if exists public.r_u_e_key;
-- rollback
CREATE UNIQUE INDEX r_u_e_key ON public.r USING btree (u, e);
ALTER TABLE public.r ADD CONSTRAINT r_u_e_key UNIQUE USING INDEX r_u_e_key;
