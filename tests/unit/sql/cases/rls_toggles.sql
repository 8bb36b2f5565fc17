-- A table an earlier migration made starts with row level security off: switched on, it is
-- switched off again; one known to be on needs nothing. One the migrations never made (the
-- dashboard enables RLS by default) or whose switch a DO block may have set is by hand: the
-- opposite switch would guess "off" and could open the table to every role.
-- history
create table public.k (id int);
create table public.e (id int);
alter table public.e enable row level security;
create table public.y (id int);
do $$ begin alter table public.y enable row level security; end $$;
-- forward
alter table public.t enable row level security;
alter table public.t force row level security;
alter table public.u disable row level security;
alter table public.k enable row level security;
alter table public.e enable row level security;
alter table public.y enable row level security;
-- manual
PRIOR_ROW_SECURITY PRIOR_ROW_SECURITY PRIOR_ROW_SECURITY PRIOR_ROW_SECURITY
-- rollback
ALTER TABLE public.k DISABLE ROW LEVEL SECURITY;
