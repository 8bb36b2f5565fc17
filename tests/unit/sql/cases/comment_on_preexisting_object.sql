-- history
create table public.known (id int);
-- forward
comment on table public.known is 'documented';
comment on table auth.users is 'platform table';
-- manual
PRIOR_DEFINITION
-- rollback
COMMENT ON TABLE public.known IS NULL;
