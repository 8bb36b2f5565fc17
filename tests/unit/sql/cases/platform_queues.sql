-- forward
select pgmq.create('webhook_delivery');
select pgmq.create_unlogged(queue_name => 'fast_jobs');
select pgmq.drop_queue('old_jobs');
-- manual
DATA_CHANGE
-- rollback
SELECT pgmq.create('old_jobs');
SELECT pgmq.drop_queue('fast_jobs');
SELECT pgmq.drop_queue('webhook_delivery');
