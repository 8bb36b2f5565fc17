-- A foreign table's rows live on its server and a schema dropped without CASCADE was empty:
-- both come back from the text that made them, no backup needed. With CASCADE the schema's
-- tables went with it: a human restores them from the backup.
-- history
create foreign data wrapper files;
create server file_server foreign data wrapper files;
create foreign table public.remote_reports (id int) server file_server;
create schema reporting;
create schema archive;
-- forward
drop foreign table public.remote_reports;
drop schema reporting;
drop schema archive cascade;
-- manual
RECREATE_DROPPED
-- rollback
create schema reporting;
create foreign table public.remote_reports (id int) server file_server;
