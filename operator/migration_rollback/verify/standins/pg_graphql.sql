-- stand-in: pg_graphql
-- version: 1.5.7
-- schema: graphql
-- follows: supabase/pg_graphql 1.5 (as installed by supabase/postgres 15.8)
--
-- The public API of pg_graphql (graphql.resolve and its helpers); resolve answers an error
-- document, it never reads the schema.
CREATE SCHEMA IF NOT EXISTS graphql;
CREATE SEQUENCE graphql.seq_schema_version AS integer CYCLE;
CREATE FUNCTION graphql.get_schema_version() RETURNS integer
  LANGUAGE sql SECURITY DEFINER AS $$ SELECT last_value FROM graphql.seq_schema_version $$;
CREATE FUNCTION graphql.increment_schema_version() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN PERFORM pg_catalog.nextval('graphql.seq_schema_version'); END $$;
CREATE FUNCTION graphql.comment_directive(comment_ text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$ SELECT NULL::jsonb $$;
CREATE FUNCTION graphql.exception(message text) RETURNS text
  LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING errcode = '22000', message = message; END $$;
CREATE FUNCTION graphql.resolve(query text, variables jsonb DEFAULT '{}',
    "operationName" text DEFAULT NULL, extensions jsonb DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE sql
AS $$ SELECT jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('message', 'stand-in'))) $$;
GRANT USAGE ON SCHEMA graphql TO anon, authenticated, service_role;
GRANT ALL ON FUNCTION graphql.resolve(text, jsonb, text, jsonb) TO anon, authenticated, service_role;
GRANT ALL ON SEQUENCE graphql.seq_schema_version TO anon, authenticated, service_role;
