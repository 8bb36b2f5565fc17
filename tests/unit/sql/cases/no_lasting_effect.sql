-- forward
select 1;
select now();
select current_setting('app.settings.env', true);
select count(*) from public.t where created_at < now() - interval '1 day';
select pg_catalog.version(), gen_random_uuid();
select pg_sleep(0.1);
select pg_notify('pgrst', 'reload schema'), set_config('app.x', 'y', true);
notify pgrst, 'reload config';
set statement_timeout = '5min';
set local lock_timeout = '1s';
reset statement_timeout;
create temporary table scratch (id int);
select * into temporary scratch2 from public.t;
select exists (select 1 from public.t where lower(name) = 'x');
show search_path;
explain select * from public.t;
explain (analyze) select now();
-- rollback
