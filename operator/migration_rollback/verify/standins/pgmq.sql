-- stand-in: pgmq
-- version: 1.4.4
-- schema: pgmq
-- follows: tembo-io/pgmq 1.4 (pgmq-extension/sql/pgmq.sql)
--
-- pgmq always creates its objects in schema `pgmq`. create()/drop_queue() make and remove the
-- queue and archive tables (pgmq.q_<name>, pgmq.a_<name>) as the real ones do, so grants and
-- policies on them replay; sending and reading work on those tables without visibility timers.
CREATE SCHEMA IF NOT EXISTS pgmq;
CREATE TABLE pgmq.meta (
  queue_name character varying NOT NULL UNIQUE,
  is_partitioned boolean NOT NULL,
  is_unlogged boolean NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);
CREATE TYPE pgmq.message_record AS (
  msg_id bigint, read_ct integer, enqueued_at timestamp with time zone,
  vt timestamp with time zone, message jsonb
);
CREATE TYPE pgmq.queue_record AS (
  queue_name character varying, is_partitioned boolean, is_unlogged boolean,
  created_at timestamp with time zone
);
CREATE TYPE pgmq.metrics_result AS (
  queue_name text, queue_length bigint, newest_msg_age_sec integer, oldest_msg_age_sec integer,
  total_messages bigint, scrape_time timestamp with time zone
);
CREATE FUNCTION pgmq.create(queue_name text) RETURNS void
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('CREATE TABLE IF NOT EXISTS pgmq.%I (msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    read_ct integer DEFAULT 0 NOT NULL, enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    vt timestamp with time zone NOT NULL, message jsonb)', 'q_' || queue_name);
  EXECUTE format('CREATE TABLE IF NOT EXISTS pgmq.%I (msg_id bigint PRIMARY KEY, read_ct integer DEFAULT 0 NOT NULL,
    enqueued_at timestamp with time zone DEFAULT now() NOT NULL,
    archived_at timestamp with time zone DEFAULT now() NOT NULL,
    vt timestamp with time zone NOT NULL, message jsonb)', 'a_' || queue_name);
  INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged) VALUES (queue_name, false, false)
    ON CONFLICT DO NOTHING;
END
$$;
CREATE FUNCTION pgmq.create_unlogged(queue_name text) RETURNS void
  LANGUAGE sql AS $$ SELECT pgmq.create(queue_name) $$;
CREATE FUNCTION pgmq.create_partitioned(queue_name text, partition_interval text DEFAULT '10000',
    retention_interval text DEFAULT '100000') RETURNS void
  LANGUAGE sql AS $$ SELECT pgmq.create(queue_name) $$;
CREATE FUNCTION pgmq.drop_queue(queue_name text) RETURNS boolean
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS pgmq.%I', 'q_' || queue_name);
  EXECUTE format('DROP TABLE IF EXISTS pgmq.%I', 'a_' || queue_name);
  DELETE FROM pgmq.meta m WHERE m.queue_name = drop_queue.queue_name;
  RETURN true;
END
$$;
CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay integer DEFAULT 0) RETURNS SETOF bigint
  LANGUAGE plpgsql
AS $$
BEGIN
  RETURN QUERY EXECUTE format('INSERT INTO pgmq.%I (vt, message) VALUES (now() + $1 * interval ''1 second'', $2)
    RETURNING msg_id', 'q_' || queue_name) USING delay, msg;
END
$$;
CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay integer DEFAULT 0)
  RETURNS SETOF bigint
  LANGUAGE sql AS $$ SELECT pgmq.send(queue_name, m, delay) FROM unnest(msgs) m $$;
CREATE FUNCTION pgmq.read(queue_name text, vt integer, qty integer) RETURNS SETOF pgmq.message_record
  LANGUAGE plpgsql
AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT msg_id, read_ct, enqueued_at, vt, message FROM pgmq.%I LIMIT $1',
    'q_' || queue_name) USING qty;
END
$$;
CREATE FUNCTION pgmq.read_with_poll(queue_name text, vt integer, qty integer,
    max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
  RETURNS SETOF pgmq.message_record
  LANGUAGE sql AS $$ SELECT * FROM pgmq.read(queue_name, vt, qty) $$;
CREATE FUNCTION pgmq.pop(queue_name text) RETURNS SETOF pgmq.message_record
  LANGUAGE sql AS $$ SELECT * FROM pgmq.read(queue_name, 0, 1) $$;
CREATE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
  RETURNS SETOF pgmq.message_record
  LANGUAGE sql AS $$ SELECT * FROM pgmq.read(queue_name, 0, 0) $$;
CREATE FUNCTION pgmq.archive(queue_name text, msg_id bigint) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgmq.archive(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
  LANGUAGE sql AS $$ SELECT unnest(msg_ids) $$;
CREATE FUNCTION pgmq.delete(queue_name text, msg_id bigint) RETURNS boolean
  LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('DELETE FROM pgmq.%I WHERE msg_id = $1', 'q_' || queue_name) USING msg_id;
  RETURN FOUND;
END
$$;
CREATE FUNCTION pgmq.delete(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
  LANGUAGE sql AS $$ SELECT unnest(msg_ids) $$;
CREATE FUNCTION pgmq.purge_queue(queue_name text) RETURNS bigint
  LANGUAGE sql AS $$ SELECT 0::bigint $$;
CREATE FUNCTION pgmq.list_queues() RETURNS SETOF pgmq.queue_record
  LANGUAGE sql AS $$ SELECT queue_name, is_partitioned, is_unlogged, created_at FROM pgmq.meta $$;
CREATE FUNCTION pgmq.metrics(queue_name text) RETURNS pgmq.metrics_result
  LANGUAGE sql AS $$ SELECT queue_name, 0::bigint, NULL::integer, NULL::integer, 0::bigint, now() $$;
CREATE FUNCTION pgmq.metrics_all() RETURNS SETOF pgmq.metrics_result
  LANGUAGE sql AS $$ SELECT pgmq.metrics(m.queue_name) FROM pgmq.meta m $$;
