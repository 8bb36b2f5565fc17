-- forward
select cron.schedule('purge-sessions', '0 3 * * *', $$delete from public.sessions where expires_at < now()$$);
select cron.schedule('*/5 * * * *', 'select public.refresh_stats()');
select vault.create_secret('sk_live_abc', 'stripe_key', 'Stripe API key');
select vault.create_secret(new_secret => 'xyz', new_name => 'webhook_secret');
select net.http_post(url := 'https://example.com/hook', body := '{}'::jsonb);
select pg_notify('pgrst', 'reload schema');
notify pgrst, 'reload config';
select set_config('search_path', 'public', true);
-- rollback
DELETE FROM vault.secrets WHERE name = 'webhook_secret';
DELETE FROM vault.secrets WHERE name = 'stripe_key';
SELECT cron.unschedule(jobid) FROM cron.job WHERE schedule = '*/5 * * * *' AND command = 'select public.refresh_stats()';
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'purge-sessions';
