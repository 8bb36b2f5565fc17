-- stand-in: pg_net
-- version: 0.14.0
-- schema: extensions
-- follows: supabase/pg_net 0.14 (sql/pg_net.sql)
--
-- pg_net always creates its objects in schema `net` (WITH SCHEMA only names the extension's
-- schema). Requests are queued in net.http_request_queue like the real ones; nothing sends them.
CREATE SCHEMA IF NOT EXISTS net;
CREATE DOMAIN net.http_method AS text
  CHECK (value ILIKE 'get' OR value ILIKE 'post' OR value ILIKE 'delete');
CREATE TYPE net.request_status AS ENUM ('PENDING', 'SUCCESS', 'ERROR');
CREATE TYPE net.http_response AS (status_code integer, headers jsonb, body text);
CREATE TYPE net.http_response_result AS (
  status net.request_status, message text, response net.http_response
);
CREATE UNLOGGED TABLE net.http_request_queue (
  id bigserial,
  method net.http_method NOT NULL,
  url text NOT NULL,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer NOT NULL
);
CREATE UNLOGGED TABLE net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamp with time zone NOT NULL DEFAULT now()
);
CREATE INDEX ON net._http_response (created);

CREATE FUNCTION net.http_get(url text, params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000)
  RETURNS bigint
  LANGUAGE sql
AS $$
  INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
  VALUES ('GET', $1, $3, $4) RETURNING id
$$;
CREATE FUNCTION net.http_post(url text, body jsonb DEFAULT '{}'::jsonb,
    params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds integer DEFAULT 5000)
  RETURNS bigint
  LANGUAGE sql
AS $$
  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('POST', $1, $4, convert_to($2::text, 'UTF8'), $5) RETURNING id
$$;
CREATE FUNCTION net.http_delete(url text, params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{}'::jsonb, timeout_milliseconds integer DEFAULT 5000,
    body jsonb DEFAULT NULL)
  RETURNS bigint
  LANGUAGE sql
AS $$
  INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  VALUES ('DELETE', $1, $3, convert_to($5::text, 'UTF8'), $4) RETURNING id
$$;
CREATE FUNCTION net.http_collect_response(request_id bigint, async boolean DEFAULT true)
  RETURNS net.http_response_result
  LANGUAGE sql
AS $$ SELECT ROW('PENDING', 'request is pending', NULL)::net.http_response_result $$;
CREATE FUNCTION net._await_response(request_id bigint) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION net._urlencode_string(string character varying) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT $1::text $$;
CREATE FUNCTION net._encode_url_with_params_array(url text, params_array text[]) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE FUNCTION net.check_worker_is_up() RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION net.worker_restart() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION net.wait_until_running() RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION net.wake() RETURNS void LANGUAGE sql AS $$ SELECT $$;
-- What Supabase's grant_pg_net_access event trigger does once pg_net is created.
GRANT USAGE ON SCHEMA net TO supabase_functions_admin, postgres, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION net.http_get(text, jsonb, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION net.http_post(text, jsonb, jsonb, jsonb, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION net.http_get(text, jsonb, jsonb, integer),
  net.http_post(text, jsonb, jsonb, jsonb, integer)
  TO supabase_functions_admin, postgres, anon, authenticated, service_role;
