-- history
create table public.healthcare_vitals (id uuid primary key);
alter table if exists public.healthcare_vitals rename to user_group_metrics;
-- forward
-- tutur3u: a table an earlier migration made and another renamed is still made by them, under
-- its new name: the platform's default privileges gave service_role and authenticated all of
-- it, so these GRANTs changed nothing (a REVOKE took from them what they held)
grant select, insert, update, delete on table public.user_group_metrics to authenticated;
grant all privileges on table public.user_group_metrics to service_role;
-- rollback
