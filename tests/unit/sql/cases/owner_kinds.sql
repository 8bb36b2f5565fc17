-- An index has no owner of its own (PostgreSQL warns and changes nothing), so its OWNER TO
-- needs no undo; the other relations are given back under their own kind.
-- history
create table public.reports (id int primary key);
create index reports_idx on public.reports (id);
create materialized view public.report_counts as select 1 as n;
create sequence public.report_seq;
-- forward
alter index public.reports_idx owner to reporting;
alter materialized view public.report_counts owner to reporting;
alter sequence public.report_seq owner to reporting;
-- manual
PRIOR_OWNER PRIOR_OWNER
-- rollback
