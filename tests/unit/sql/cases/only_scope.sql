-- ALTER TABLE ONLY's relatives keep the forward's scope too: a rename of a member of the table
-- alone, IF EXISTS with ONLY. An index attached to a partitioned index cannot be detached: when
-- both are new, dropping the parent first drops both; otherwise a human undoes it. TRUNCATE
-- ONLY's manual item says the children were not emptied.
-- history
create table public.pt (a int, b int) partition by range (a);
create table public.pt1 partition of public.pt for values from (0) to (10);
create table public.t (a int, b int, constraint k check (a > 0));
-- forward
alter table if exists only public.t alter column b set default 2;
alter table only public.t rename column a to a2;
alter table only public.t rename constraint k to k2;
create index pt_b_idx on only public.pt (b);
create index pt1_b_idx on public.pt1 (b);
alter index public.pt_b_idx attach partition public.pt1_b_idx;
alter index public.pt_a_idx attach partition public.pt1_a_idx;
truncate only public.t;
-- manual
DATA_CHANGE UNSUPPORTED
-- rollback
DROP INDEX IF EXISTS public.pt_b_idx;
DROP INDEX IF EXISTS public.pt1_b_idx;
DROP INDEX IF EXISTS public.pt_b_idx;
ALTER TABLE ONLY public.t RENAME CONSTRAINT k2 TO k;
ALTER TABLE ONLY public.t RENAME COLUMN a2 TO a;
ALTER TABLE IF EXISTS ONLY public.t ALTER COLUMN b DROP DEFAULT;
