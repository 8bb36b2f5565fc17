-- forward
alter table public.t add column c text, add constraint t_c_check check (c <> '');
alter table public.t add unique (a, b);
alter table public.t add foreign key (owner) references public.users (id);
-- rollback
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS t_owner_fkey;
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS t_a_b_key;
ALTER TABLE public.t DROP CONSTRAINT IF EXISTS t_c_check;
ALTER TABLE public.t DROP COLUMN IF EXISTS c;
