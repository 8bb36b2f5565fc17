-- The replica identity a table had before is the shadow's to say (the verifier fills it);
-- on a table this migration creates, nothing to undo.
-- history
create table public.msgs (id int primary key);
-- forward
alter table public.msgs replica identity full;
create table public.fresh (id int primary key);
alter table public.fresh replica identity full;
-- manual
PRIOR_REPLICA_IDENTITY
-- rollback
DROP TABLE IF EXISTS public.fresh;
