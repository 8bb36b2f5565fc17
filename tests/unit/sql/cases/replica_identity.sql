-- The replica identity a table had before: DEFAULT for one the migrations created, as later
-- ones left it, followed through a rename (earlier or here); unknown for a table made
-- elsewhere (PRIOR_REPLICA_IDENTITY: the verifier fills it) or after USING INDEX; nothing on a
-- table this migration creates, nor where it was already so.
-- history
create table public.msgs (id int primary key);
create table public.rooms (id int primary key);
alter table public.rooms replica identity full;
create table public.old_name (id int primary key);
alter table public.old_name replica identity nothing;
alter table public.old_name rename to events;
create table public.keyed (id int primary key);
alter table public.keyed replica identity using index keyed_pkey;
create table public.logs (id int primary key);
-- forward
alter table public.msgs replica identity full;
alter table public.rooms replica identity default;
alter table public.events replica identity full;
alter table public.rooms replica identity full;
alter table public.logs rename to audit;
alter table audit replica identity full;
alter table auth.users replica identity full;
alter table public.keyed replica identity full;
create table public.fresh (id int primary key);
alter table public.fresh replica identity full;
-- manual
PRIOR_REPLICA_IDENTITY PRIOR_REPLICA_IDENTITY
-- rollback
DROP TABLE IF EXISTS public.fresh;
ALTER TABLE public.audit REPLICA IDENTITY DEFAULT;
ALTER TABLE IF EXISTS public.audit RENAME TO logs;
ALTER TABLE public.events REPLICA IDENTITY NOTHING;
ALTER TABLE public.rooms REPLICA IDENTITY FULL;
ALTER TABLE public.msgs REPLICA IDENTITY DEFAULT;
