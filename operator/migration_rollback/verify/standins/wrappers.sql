-- stand-in: wrappers
-- version: 0.4.3
-- schema: current
-- follows: supabase/wrappers 0.4 (wrappers/sql: the <name>_fdw_handler/_validator/_meta functions)
--
-- Every wrapper's handler, validator and meta function, so that CREATE FOREIGN DATA WRAPPER
-- ... HANDLER stripe_fdw_handler VALIDATOR stripe_fdw_validator, its servers and foreign
-- tables replay. A handler must be a C function: these borrow postgres_fdw's (never called,
-- since the shadow never reads a foreign table); the validators accept every option.
DO $standin$
DECLARE
  w text;
BEGIN
  FOREACH w IN ARRAY ARRAY['airtable', 'auth0', 'big_query', 'click_house', 'cognito', 'firebase',
                           'hello_world', 'logflare', 'mssql', 'redis', 's3', 'stripe', 'wasm',
                           'iceberg', 'duckdb', 'notion', 'paddle', 'snowflake', 'cal', 'calendly',
                           'clerk', 'cfd1', 'gravatar', 'hubspot', 'orb', 'slack', 'shopify']
  LOOP
    EXECUTE format('CREATE FUNCTION @extschema@.%I() RETURNS fdw_handler LANGUAGE c STRICT
      AS %L, %L', w || '_fdw_handler', '$libdir/postgres_fdw', 'postgres_fdw_handler');
    -- plpgsql: a void SQL function returns NULL, which the validator's caller refuses.
    EXECUTE format('CREATE FUNCTION @extschema@.%I(options text[], catalog oid) RETURNS void
      LANGUAGE plpgsql STRICT AS %L', w || '_fdw_validator', 'BEGIN END');
    EXECUTE format('CREATE FUNCTION @extschema@.%I() RETURNS TABLE(name text, version text,
      author text, website text) LANGUAGE sql STRICT AS %L', w || '_fdw_meta',
      format('SELECT %L, %L, %L, %L', w, '0.4.3', 'Supabase', 'https://github.com/supabase/wrappers'));
  END LOOP;
END
$standin$;
