-- history
create table public.reports (id int primary key);
-- forward
create table public.fresh (id int);
alter table public.fresh owner to reporting;
alter table public.reports owner to reporting;
alter view public.report_totals owner to reporting;
alter function public.refresh_reports(integer) owner to reporting;
alter type public.report_kind owner to reporting;
alter schema reporting owner to reporting;
-- manual
PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER PRIOR_OWNER
-- rollback
DROP TABLE IF EXISTS public.fresh;
