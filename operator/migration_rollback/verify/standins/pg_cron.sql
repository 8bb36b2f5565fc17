-- stand-in: pg_cron
-- version: 1.6
-- schema: pg_catalog
-- follows: citusdata/pg_cron 1.6 (pg_cron.sql and its upgrade scripts to 1.6)
--
-- The job tables, sequences, policies and functions pg_cron creates, with its signatures. The
-- functions record jobs in cron.job like the real ones, but nothing ever runs them.
CREATE SCHEMA IF NOT EXISTS cron;
CREATE SEQUENCE cron.jobid_seq;
CREATE TABLE cron.job (
  jobid bigint PRIMARY KEY DEFAULT pg_catalog.nextval('cron.jobid_seq'),
  schedule text NOT NULL,
  command text NOT NULL,
  nodename text NOT NULL DEFAULT 'localhost',
  -- NULL over a Unix socket (a --shadow-url with host=/path): the real schedule() fills it in
  nodeport integer NOT NULL
    DEFAULT coalesce(pg_catalog.inet_server_port(), pg_catalog.current_setting('port')::integer),
  database text NOT NULL DEFAULT pg_catalog.current_database(),
  username text NOT NULL DEFAULT CURRENT_USER,
  active boolean NOT NULL DEFAULT true,
  jobname text
);
CREATE UNIQUE INDEX jobname_username_idx ON cron.job (jobname, username);
ALTER TABLE cron.job ADD CONSTRAINT jobname_username_uniq UNIQUE USING INDEX jobname_username_idx;
GRANT SELECT ON cron.job TO PUBLIC;
ALTER TABLE cron.job ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_policy ON cron.job USING (username OPERATOR(pg_catalog.=) CURRENT_USER);

CREATE SEQUENCE cron.runid_seq;
CREATE TABLE cron.job_run_details (
  jobid bigint,
  runid bigint PRIMARY KEY DEFAULT pg_catalog.nextval('cron.runid_seq'),
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamp with time zone,
  end_time timestamp with time zone
);
GRANT SELECT, DELETE ON cron.job_run_details TO PUBLIC;
ALTER TABLE cron.job_run_details ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_run_details_policy ON cron.job_run_details
  USING (username OPERATOR(pg_catalog.=) CURRENT_USER);

CREATE FUNCTION cron.schedule(schedule text, command text) RETURNS bigint
  LANGUAGE sql STRICT
AS $$ INSERT INTO cron.job (schedule, command) VALUES ($1, $2) RETURNING jobid $$;
CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
  LANGUAGE sql STRICT
AS $$
  INSERT INTO cron.job (jobname, schedule, command) VALUES ($1, $2, $3)
  ON CONFLICT (jobname, username) DO UPDATE SET schedule = excluded.schedule,
    command = excluded.command
  RETURNING jobid
$$;
CREATE FUNCTION cron.schedule_in_database(job_name text, schedule text, command text,
    database text, username text DEFAULT NULL, active boolean DEFAULT true) RETURNS bigint
  LANGUAGE sql
AS $$
  INSERT INTO cron.job (jobname, schedule, command, database, username, active)
  VALUES ($1, $2, $3, $4, coalesce($5, CURRENT_USER), $6) RETURNING jobid
$$;
CREATE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean
  LANGUAGE sql STRICT
AS $$ WITH d AS (DELETE FROM cron.job WHERE jobid = $1 RETURNING 1) SELECT count(*) > 0 FROM d $$;
CREATE FUNCTION cron.unschedule(job_name text) RETURNS boolean
  LANGUAGE sql STRICT
AS $$ WITH d AS (DELETE FROM cron.job WHERE jobname = $1 RETURNING 1) SELECT count(*) > 0 FROM d $$;
CREATE FUNCTION cron.alter_job(job_id bigint, schedule text DEFAULT NULL, command text DEFAULT NULL,
    database text DEFAULT NULL, username text DEFAULT NULL, active boolean DEFAULT NULL)
  RETURNS void
  LANGUAGE sql
AS $$
  UPDATE cron.job SET schedule = coalesce($2, schedule), command = coalesce($3, command),
    database = coalesce($4, database), username = coalesce($5, username),
    active = coalesce($6, active)
  WHERE jobid = $1
$$;
CREATE FUNCTION cron.job_cache_invalidate() RETURNS trigger
  LANGUAGE plpgsql
AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER cron_job_cache_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cron.job
  FOR STATEMENT EXECUTE FUNCTION cron.job_cache_invalidate();
-- What Supabase's grant_pg_cron_access event trigger does once pg_cron is created.
GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA cron TO postgres WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA cron TO postgres WITH GRANT OPTION;
