-- A materialized view dropped here is recreated from its earlier CREATE (which runs its query:
-- its rows are the query's) with the indexes earlier migrations made on it since (its DROP
-- took them; REFRESH ... CONCURRENTLY needs the unique one); not one made on an earlier view
-- of the name, which went with that view. REFRESH needs no undo.
-- history
create table public.t (id int, n int);
create materialized view public.mv as select id from public.t;
create index old_i on public.mv (id);
drop materialized view public.mv;
create materialized view public.mv as select id, n from public.t with no data;
create unique index mv_id on public.mv (id);
create index mv_n on public.mv (n);
drop index public.mv_n;
-- forward
refresh materialized view public.mv;
drop materialized view public.mv;
-- rollback
create materialized view public.mv as select id, n from public.t with no data;
create unique index mv_id on public.mv (id);
