-- Supabase baseline for shadow replays (migration-rollback).
--
-- Platform version followed: supabase/postgres 15.8.1 (migrations/schema-15.sql and
-- migrations/db/), with the auth (GoTrue v2.170), storage (v1.19) and realtime (v2.34) schemas
-- their services migrate to. The constant PLATFORM_VERSION in baseline/__init__.py says the same.
--
-- What a Supabase project's database already holds before the first file of
-- supabase/migrations/ runs, so that real migrations replay without edits:
--   * the platform roles (anon, authenticated, service_role, authenticator, postgres,
--     supabase_admin, dashboard_user, supabase_auth_admin, supabase_storage_admin,
--     supabase_realtime_admin, supabase_replication_admin, supabase_read_only_user,
--     supabase_functions_admin, pgbouncer) and the grants between them;
--   * the extensions the platform installs by default: uuid-ossp, pgcrypto,
--     pg_stat_statements (contrib) and pgjwt, pgsodium, pg_graphql, supabase_vault (stand-ins on
--     a plain PostgreSQL, see verify/standins/); pg_cron, pg_net, pgmq are enabled by a
--     migration or, when none does, on first use (see roundtrip.py);
--   * auth: users, identities, sessions, refresh_tokens, the mfa tables, audit_log_entries,
--     instances, flow_state, one_time_tokens, sso/saml tables, schema_migrations, and
--     auth.uid(), auth.role(), auth.email(), auth.jwt();
--   * storage: buckets, objects (RLS on), migrations, and storage.foldername(), filename(),
--     extension(), search(), get_size_by_bucket();
--   * realtime: messages (partitioned, RLS on), subscription, schema_migrations, and
--     realtime.send(), broadcast_changes(), topic(), to_regrole();
--   * graphql_public.graphql(), supabase_functions (hooks, migrations, http_request()),
--     pgbouncer.get_auth(), supabase_migrations.schema_migrations and seed_files;
--   * the publication supabase_realtime and the default privileges Supabase grants on public.
--
-- It is NOT a copy of Supabase's schema: only what migrations reference, with the same names,
-- column types, owners and grants. Everything here is idempotent (it may run on a server where
-- it already ran); roles are cluster-wide, so each CREATE ROLE is guarded by a DO block, and
-- attributes and owners that need a superuser are only set by one.
-- The verifier snapshots the shadow database after loading this file, so these objects count in
-- comparisons only if a migration or rollback changes them.

-- Roles ------------------------------------------------------------------------------------------
DO $baseline$
DECLARE
  r text;
  su boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator', 'postgres',
                           'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin',
                           'supabase_realtime_admin', 'supabase_replication_admin',
                           'supabase_read_only_user', 'supabase_functions_admin',
                           'dashboard_user', 'pgbouncer'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
    END IF;
  END LOOP;
  IF su THEN
    ALTER ROLE service_role BYPASSRLS;
    ALTER ROLE authenticator LOGIN;
    ALTER ROLE supabase_read_only_user BYPASSRLS;
    ALTER ROLE supabase_replication_admin REPLICATION;
    ALTER ROLE supabase_auth_admin CREATEROLE;
    ALTER ROLE supabase_storage_admin CREATEROLE;
    ALTER ROLE supabase_functions_admin CREATEROLE;
    ALTER ROLE dashboard_user CREATEDB CREATEROLE REPLICATION;
  END IF;
  -- authenticator switches into the API roles; the migration role may act as them (SET ROLE).
  GRANT anon, authenticated, service_role TO authenticator;
  GRANT anon, authenticated, service_role TO postgres;
  GRANT supabase_auth_admin, supabase_storage_admin TO postgres;
  EXECUTE format('GRANT anon, authenticated, service_role TO %I', current_user);
END
$baseline$;

-- Schemas ----------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS storage;
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE SCHEMA IF NOT EXISTS graphql;
CREATE SCHEMA IF NOT EXISTS graphql_public;
CREATE SCHEMA IF NOT EXISTS vault;
CREATE SCHEMA IF NOT EXISTS pgsodium;
CREATE SCHEMA IF NOT EXISTS pgbouncer;
CREATE SCHEMA IF NOT EXISTS supabase_functions;
CREATE SCHEMA IF NOT EXISTS supabase_migrations;

GRANT USAGE ON SCHEMA public, extensions, graphql_public TO postgres, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA auth, storage, realtime TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin, dashboard_user;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin, dashboard_user;
GRANT ALL ON SCHEMA realtime TO supabase_realtime_admin;
GRANT ALL ON SCHEMA extensions TO dashboard_user;
GRANT USAGE ON SCHEMA supabase_functions TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA supabase_functions TO supabase_functions_admin;
GRANT USAGE ON SCHEMA pgbouncer TO pgbouncer;

-- Extensions (Supabase installs them into `extensions`, which is on the search_path) -------------
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pgjwt WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pgsodium WITH SCHEMA pgsodium;
CREATE EXTENSION IF NOT EXISTS pg_graphql WITH SCHEMA graphql;
CREATE EXTENSION IF NOT EXISTS supabase_vault WITH SCHEMA vault;

-- The search_path Supabase gives the migration role, for this database and this session.
DO $baseline$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET search_path TO "$user", public, extensions',
                 current_database());
END
$baseline$;
SELECT pg_catalog.set_config('search_path', '"$user", public, extensions', false);

-- auth -------------------------------------------------------------------------------------------
DO $baseline$ BEGIN
  CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE auth.one_time_token_type AS ENUM ('confirmation_token', 'reauthentication_token',
    'recovery_token', 'email_change_token_new', 'email_change_token_current', 'phone_change_token');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;

CREATE TABLE IF NOT EXISTS auth.instances (
  id uuid NOT NULL PRIMARY KEY,
  uuid uuid,
  raw_base_config text,
  created_at timestamp with time zone,
  updated_at timestamp with time zone
);
COMMENT ON TABLE auth.instances IS 'Auth: Manages users across multiple sites.';

CREATE TABLE IF NOT EXISTS auth.audit_log_entries (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  payload json,
  created_at timestamp with time zone,
  ip_address character varying(64) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_logs_instance_id_idx ON auth.audit_log_entries (instance_id);
COMMENT ON TABLE auth.audit_log_entries IS 'Auth: Audit trail for user actions.';

CREATE TABLE IF NOT EXISTS auth.schema_migrations (
  version character varying(255) NOT NULL PRIMARY KEY
);
COMMENT ON TABLE auth.schema_migrations IS 'Auth: Manages updates to the auth system.';

CREATE TABLE IF NOT EXISTS auth.users (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  aud character varying(255),
  role character varying(255),
  email character varying(255),
  encrypted_password character varying(255),
  email_confirmed_at timestamp with time zone,
  invited_at timestamp with time zone,
  confirmation_token character varying(255),
  confirmation_sent_at timestamp with time zone,
  recovery_token character varying(255),
  recovery_sent_at timestamp with time zone,
  email_change_token_new character varying(255),
  email_change character varying(255),
  email_change_sent_at timestamp with time zone,
  last_sign_in_at timestamp with time zone,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  phone text UNIQUE DEFAULT NULL,
  phone_confirmed_at timestamp with time zone,
  phone_change text DEFAULT '',
  phone_change_token character varying(255) DEFAULT '',
  phone_change_sent_at timestamp with time zone,
  confirmed_at timestamp with time zone
    GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current character varying(255) DEFAULT '',
  email_change_confirm_status smallint DEFAULT 0
    CHECK (email_change_confirm_status >= 0 AND email_change_confirm_status <= 2),
  banned_until timestamp with time zone,
  reauthentication_token character varying(255) DEFAULT '',
  reauthentication_sent_at timestamp with time zone,
  is_sso_user boolean NOT NULL DEFAULT false,
  deleted_at timestamp with time zone,
  is_anonymous boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users (is_anonymous);
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS auth.identities (
  provider_id text NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data jsonb NOT NULL,
  provider text NOT NULL,
  last_sign_in_at timestamp with time zone,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS auth.sessions (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamp with time zone,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_not_after_idx ON auth.sessions (not_after DESC);
COMMENT ON TABLE auth.sessions IS 'Auth: Stores session data associated to a user.';

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  instance_id uuid,
  id bigserial PRIMARY KEY,
  token character varying(255) UNIQUE,
  user_id character varying(255),
  revoked boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  parent character varying(255),
  session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_idx ON auth.refresh_tokens (instance_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_user_id_idx
  ON auth.refresh_tokens (instance_id, user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx
  ON auth.refresh_tokens (session_id, revoked);
COMMENT ON TABLE auth.refresh_tokens IS 'Auth: Store of tokens used to refresh JWT tokens once they expire.';

CREATE TABLE IF NOT EXISTS auth.mfa_factors (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  friendly_name text,
  factor_type auth.factor_type NOT NULL,
  status auth.factor_status NOT NULL,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  secret text,
  phone text,
  last_challenged_at timestamp with time zone UNIQUE,
  web_authn_credential jsonb,
  web_authn_aaguid uuid
);
CREATE INDEX IF NOT EXISTS factor_id_created_at_idx ON auth.mfa_factors (user_id, created_at);
COMMENT ON TABLE auth.mfa_factors IS 'auth: stores metadata about factors';

CREATE TABLE IF NOT EXISTS auth.mfa_challenges (
  id uuid NOT NULL PRIMARY KEY,
  factor_id uuid NOT NULL REFERENCES auth.mfa_factors (id) ON DELETE CASCADE,
  created_at timestamp with time zone NOT NULL,
  verified_at timestamp with time zone,
  ip_address inet NOT NULL,
  otp_code text,
  web_authn_session_data jsonb
);
COMMENT ON TABLE auth.mfa_challenges IS 'auth: stores metadata about challenge requests made';

CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  created_at timestamp with time zone NOT NULL,
  updated_at timestamp with time zone NOT NULL,
  authentication_method text NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey
    UNIQUE (session_id, authentication_method)
);
COMMENT ON TABLE auth.mfa_amr_claims IS 'auth: stores authenticator method reference claims for multi factor authentication';

CREATE TABLE IF NOT EXISTS auth.flow_state (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid,
  auth_code text NOT NULL,
  code_challenge_method auth.code_challenge_method NOT NULL,
  code_challenge text NOT NULL,
  provider_type text NOT NULL,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  authentication_method text NOT NULL,
  auth_code_issued_at timestamp with time zone
);
COMMENT ON TABLE auth.flow_state IS 'stores metadata for pkce logins';

CREATE TABLE IF NOT EXISTS auth.one_time_tokens (
  id uuid NOT NULL PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  token_type auth.one_time_token_type NOT NULL,
  token_hash text NOT NULL CHECK (char_length(token_hash) > 0),
  relates_to text NOT NULL,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.sso_providers (
  id uuid NOT NULL PRIMARY KEY,
  resource_id text CHECK (resource_id = NULL OR char_length(resource_id) > 0),
  created_at timestamp with time zone,
  updated_at timestamp with time zone
);
CREATE TABLE IF NOT EXISTS auth.sso_domains (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  domain text NOT NULL CHECK (char_length(domain) > 0),
  created_at timestamp with time zone,
  updated_at timestamp with time zone
);
CREATE TABLE IF NOT EXISTS auth.saml_providers (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  entity_id text NOT NULL UNIQUE CHECK (char_length(entity_id) > 0),
  metadata_xml text NOT NULL CHECK (char_length(metadata_xml) > 0),
  metadata_url text,
  attribute_mapping jsonb,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  name_id_format text
);
CREATE TABLE IF NOT EXISTS auth.saml_relay_states (
  id uuid NOT NULL PRIMARY KEY,
  sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  request_id text NOT NULL CHECK (char_length(request_id) > 0),
  for_email text,
  redirect_to text,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  flow_state_id uuid REFERENCES auth.flow_state (id) ON DELETE CASCADE
);

DO $baseline$
DECLARE
  t text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'auth'::regnamespace
             AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE auth.%I ENABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$baseline$;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt()
  TO anon, authenticated, service_role, dashboard_user;
GRANT ALL ON ALL TABLES IN SCHEMA auth TO supabase_auth_admin, dashboard_user, postgres;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO supabase_auth_admin, dashboard_user, postgres;


-- storage ----------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS storage.buckets (
  id text NOT NULL PRIMARY KEY,
  name text NOT NULL,
  owner uuid,
  created_at timestamp with time zone DEFAULT now(),
  updated_at timestamp with time zone DEFAULT now(),
  public boolean DEFAULT false,
  avif_autodetection boolean DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets USING btree (name);

CREATE TABLE IF NOT EXISTS storage.migrations (
  id integer NOT NULL PRIMARY KEY,
  name character varying(100) NOT NULL UNIQUE,
  hash character varying(40) NOT NULL,
  executed_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  bucket_id text REFERENCES storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamp with time zone DEFAULT now(),
  updated_at timestamp with time zone DEFAULT now(),
  last_accessed_at timestamp with time zone DEFAULT now(),
  metadata jsonb,
  path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
  version text,
  owner_id text,
  user_metadata jsonb,
  level integer
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects USING btree (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects USING btree (name text_pattern_ops);
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
  LANGUAGE plpgsql
AS $$
DECLARE
  _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[1:array_length(_parts, 1) - 1];
END
$$;

CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
  LANGUAGE plpgsql
AS $$
DECLARE
  _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[array_length(_parts, 1)];
END
$$;

CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
  LANGUAGE plpgsql
AS $$
DECLARE
  _parts text[];
  _filename text;
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  SELECT _parts[array_length(_parts, 1)] INTO _filename;
  RETURN reverse(split_part(reverse(_filename), '.', 1));
END
$$;

CREATE OR REPLACE FUNCTION storage.search(prefix text, bucketname text, limits integer DEFAULT 100,
    levels integer DEFAULT 1, offsets integer DEFAULT 0, search text DEFAULT '',
    sortcolumn text DEFAULT 'name', sortorder text DEFAULT 'asc')
  RETURNS TABLE(name text, id uuid, updated_at timestamp with time zone,
                created_at timestamp with time zone, last_accessed_at timestamp with time zone,
                metadata jsonb)
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN QUERY
    SELECT o.name, o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
    FROM storage.objects o
    WHERE o.bucket_id = bucketname AND o.name ILIKE prefix || '%'
    ORDER BY o.name LIMIT limits OFFSET offsets;
END
$$;

CREATE OR REPLACE FUNCTION storage.get_size_by_bucket()
  RETURNS TABLE(size bigint, bucket_id text)
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN QUERY
    SELECT sum((o.metadata ->> 'size')::bigint)::bigint, o.bucket_id
    FROM storage.objects o GROUP BY o.bucket_id;
END
$$;

GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role, postgres;
GRANT ALL ON ALL TABLES IN SCHEMA storage TO supabase_storage_admin, dashboard_user;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA storage GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;

-- realtime (the tables and functions the Realtime service migrates to) ---------------------------
DO $baseline$ BEGIN
  CREATE TYPE realtime.equality_op AS ENUM ('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE realtime.action AS ENUM ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ERROR');
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE realtime.user_defined_filter AS (column_name text, op realtime.equality_op, value text);
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE realtime.wal_column AS (
    name text, type_name text, type_oid oid, value jsonb, is_pkey boolean, is_selectable boolean
  );
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;
DO $baseline$ BEGIN
  CREATE TYPE realtime.wal_rls AS (
    wal jsonb, is_rls_enabled boolean, subscription_ids uuid[], errors text[]
  );
EXCEPTION WHEN duplicate_object THEN NULL;
END $baseline$;

CREATE TABLE IF NOT EXISTS realtime.schema_migrations (
  version bigint NOT NULL PRIMARY KEY,
  inserted_at timestamp(0) without time zone
);

CREATE TABLE IF NOT EXISTS realtime.subscription (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id uuid NOT NULL,
  entity regclass NOT NULL,
  filters realtime.user_defined_filter[] NOT NULL DEFAULT '{}',
  claims jsonb NOT NULL,
  claims_role regrole NOT NULL,
  created_at timestamp without time zone NOT NULL DEFAULT timezone('utc', now()),
  action_filter text DEFAULT '*'
);
CREATE INDEX IF NOT EXISTS ix_realtime_subscription_entity ON realtime.subscription (entity);

CREATE TABLE IF NOT EXISTS realtime.messages (
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  inserted_at timestamp without time zone NOT NULL DEFAULT now(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  PRIMARY KEY (id, inserted_at)
) PARTITION BY RANGE (inserted_at);
CREATE INDEX IF NOT EXISTS messages_inserted_at_topic_index
  ON realtime.messages (inserted_at DESC, topic) WHERE extension = 'broadcast' AND private IS TRUE;
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text
  LANGUAGE sql STABLE
AS $$ SELECT nullif(current_setting('realtime.topic', true), '')::text $$;

CREATE OR REPLACE FUNCTION realtime.to_regrole(role_name text) RETURNS regrole
  LANGUAGE sql IMMUTABLE
AS $$ SELECT role_name::regrole $$;

CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text,
    private boolean DEFAULT true) RETURNS void
  LANGUAGE plpgsql
AS $$
BEGIN
  BEGIN
    EXECUTE format('SET LOCAL realtime.topic TO %L', topic);
    INSERT INTO realtime.messages (payload, event, topic, private, extension)
    VALUES (payload, event, topic, private, 'broadcast');
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'ErrorSendingBroadcastMessage: %', SQLERRM;
  END;
END
$$;

CREATE OR REPLACE FUNCTION realtime.broadcast_changes(topic_name text, event_name text,
    operation text, table_name text, table_schema text, new record, old record,
    level text DEFAULT 'ROW') RETURNS void
  LANGUAGE plpgsql
AS $$
DECLARE
  row_data jsonb := '{}'::jsonb;
BEGIN
  IF level = 'STATEMENT' THEN
    RAISE EXCEPTION 'function can only be triggered for each row, not for each statement';
  END IF;
  IF operation IN ('INSERT', 'UPDATE', 'DELETE') THEN
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                   'table', table_name, 'schema', table_schema);
    PERFORM realtime.send(row_data, event_name, topic_name);
  ELSE
    RAISE EXCEPTION 'Unexpected operation type: %', operation;
  END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE ON realtime.messages TO postgres, anon, authenticated, service_role;
GRANT ALL ON realtime.subscription, realtime.schema_migrations TO supabase_realtime_admin;
GRANT SELECT ON realtime.subscription TO postgres, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION realtime.send(jsonb, text, text, boolean),
  realtime.broadcast_changes(text, text, text, text, text, record, record, text), realtime.topic()
  TO postgres, anon, authenticated, service_role;

-- graphql_public.graphql: the PostgREST entry point to pg_graphql ---------------------------------
CREATE OR REPLACE FUNCTION graphql_public.graphql("operationName" text DEFAULT NULL,
    query text DEFAULT NULL, variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql
AS $$
BEGIN
  RETURN graphql.resolve(query := query, variables := coalesce(variables, '{}'),
                         "operationName" := "operationName", extensions := extensions);
END
$$;
GRANT EXECUTE ON FUNCTION graphql_public.graphql(text, text, jsonb, jsonb)
  TO postgres, anon, authenticated, service_role;

-- supabase_functions (database webhooks; http_request() calls pg_net when it is enabled) --------
CREATE TABLE IF NOT EXISTS supabase_functions.migrations (
  version text NOT NULL PRIMARY KEY,
  inserted_at timestamp with time zone NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS supabase_functions.hooks (
  id bigserial PRIMARY KEY,
  hook_table_id integer NOT NULL,
  hook_name text NOT NULL,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  request_id bigint
);
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_request_id_idx
  ON supabase_functions.hooks (request_id);
CREATE INDEX IF NOT EXISTS supabase_functions_hooks_h_table_id_h_name_idx
  ON supabase_functions.hooks (hook_table_id, hook_name);
COMMENT ON TABLE supabase_functions.hooks IS 'Supabase Functions Hooks: Audit trail for triggered hooks.';
CREATE OR REPLACE FUNCTION supabase_functions.http_request() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = supabase_functions
AS $$
DECLARE
  request_id bigint;
  url text := TG_ARGV[0]::text;
  method text := TG_ARGV[1]::text;
  headers jsonb DEFAULT '{}'::jsonb;
  params jsonb DEFAULT '{}'::jsonb;
  timeout_ms integer DEFAULT 1000;
BEGIN
  IF url IS NULL OR url = 'null' THEN
    RAISE EXCEPTION 'url argument is missing';
  END IF;
  IF method = 'GET' THEN
    SELECT http_get INTO request_id FROM net.http_get(url, params, headers, timeout_ms);
  ELSE
    SELECT http_post INTO request_id
      FROM net.http_post(url, jsonb_build_object('type', TG_OP, 'table', TG_TABLE_NAME,
                         'schema', TG_TABLE_SCHEMA, 'record', to_jsonb(NEW),
                         'old_record', to_jsonb(OLD)), params, headers, timeout_ms);
  END IF;
  INSERT INTO supabase_functions.hooks (hook_table_id, hook_name, request_id)
  VALUES (TG_RELID, TG_NAME, request_id);
  RETURN NEW;
END
$$;
GRANT ALL ON ALL TABLES IN SCHEMA supabase_functions TO supabase_functions_admin, postgres,
  anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA supabase_functions TO supabase_functions_admin, postgres,
  anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION supabase_functions.http_request()
  TO postgres, anon, authenticated, service_role;

-- pgbouncer (its auth query) ---------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
  RETURNS TABLE(username text, password text)
  LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
  RETURN QUERY SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow
    WHERE usename = p_usename;
END
$$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer;

-- supabase_migrations (where the Supabase CLI records applied migrations) ------------------------
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version text NOT NULL PRIMARY KEY,
  statements text[],
  name text,
  created_by text,
  idempotency_key text UNIQUE,
  rollback text[]
);
CREATE TABLE IF NOT EXISTS supabase_migrations.seed_files (
  path text NOT NULL PRIMARY KEY,
  hash text NOT NULL
);

-- Realtime publication ---------------------------------------------------------------------------
DO $baseline$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime WITH (publish = 'insert, update, delete, truncate');
  END IF;
END
$baseline$;

-- Default privileges on public (what Supabase grants to objects the migration role creates) ------
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;

-- Owners, as the platform's services have them (only a superuser can hand objects over) ---------
DO $baseline$
DECLARE
  o record;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  FOR o IN SELECT n.nspname, c.relname, r.owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN (VALUES ('auth', 'supabase_auth_admin'), ('storage', 'supabase_storage_admin'),
                        ('realtime', 'supabase_realtime_admin'),
                        ('supabase_functions', 'supabase_functions_admin')) r(nsp, owner)
             ON r.nsp = n.nspname
           WHERE c.relkind IN ('r', 'p', 'v') LOOP
    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', o.nspname, o.relname, o.owner);
  END LOOP;
  FOR o IN SELECT p.oid::regprocedure AS f, r.owner
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           JOIN (VALUES ('auth', 'supabase_auth_admin'), ('storage', 'supabase_storage_admin'),
                        ('realtime', 'supabase_realtime_admin'),
                        ('supabase_functions', 'supabase_functions_admin')) r(nsp, owner)
             ON r.nsp = n.nspname LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', o.f, o.owner);
  END LOOP;
  ALTER SCHEMA auth OWNER TO supabase_admin;
  ALTER SCHEMA storage OWNER TO supabase_admin;
  ALTER SCHEMA realtime OWNER TO supabase_admin;
END
$baseline$;
