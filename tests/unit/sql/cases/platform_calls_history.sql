-- history
select cron.schedule('nightly-report', '0 2 * * *', 'select public.report()');
select cron.schedule('old-cleanup', '0 4 * * *', 'select public.cleanup()');
-- forward
select cron.schedule('nightly-report', '30 1 * * *', 'select public.report_v2()');
select cron.unschedule('old-cleanup');
select cron.unschedule('never-seen');
select vault.create_secret('no-name-here');
select cron.schedule(job_name => 'named', schedule => '@daily', command => 'select 1');
-- manual
DATA_CHANGE PRIOR_DEFINITION
-- rollback
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'named';
SELECT cron.schedule('old-cleanup', '0 4 * * *', 'select public.cleanup()');
SELECT cron.schedule('nightly-report', '0 2 * * *', 'select public.report()');
