-- stand-in: pg_jsonschema
-- version: 0.3.3
-- schema: current
-- follows: supabase/pg_jsonschema 0.3
--
-- The validation functions with their real signatures; every document validates.
CREATE FUNCTION @extschema@.json_matches_schema(schema json, instance json) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.jsonb_matches_schema(schema json, instance jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.jsonschema_is_valid(schema json) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.jsonschema_validation_errors(schema json, instance json)
  RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT '{}'::text[] $$;
