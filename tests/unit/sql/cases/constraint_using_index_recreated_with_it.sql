-- history
create table public.r (id int, u int, e int);
create unique index r_u_e_idx on public.r using btree (u, e);
alter table public.r add constraint r_u_e_key unique using index r_u_e_idx;
-- forward
alter table public.r drop constraint r_u_e_key;
create index on public.r (u, e);
-- rollback
DROP INDEX IF EXISTS public.r_u_e_idx;
CREATE UNIQUE INDEX r_u_e_idx ON public.r USING btree (u, e);
ALTER TABLE public.r ADD CONSTRAINT r_u_e_key UNIQUE USING INDEX r_u_e_idx;
