-- stand-in: plv8
-- version: 3.1.10
-- schema: pg_catalog
-- follows: plv8/plv8 3.1 (plv8.control: the trusted procedural language plv8, its handlers)
--
-- The language itself, so that functions LANGUAGE plv8 are created as on Supabase. Its handler
-- is PL/pgSQL's and there is no validator: a body is stored unchecked (JavaScript is never
-- compiled on the shadow, and a plv8 function called there fails).
CREATE FUNCTION @extschema@.plv8_call_handler() RETURNS language_handler
  LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE FUNCTION @extschema@.plv8_inline_handler(internal) RETURNS void
  LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_inline_handler';
CREATE TRUSTED LANGUAGE plv8
  HANDLER @extschema@.plv8_call_handler
  INLINE @extschema@.plv8_inline_handler;
CREATE FUNCTION @extschema@.plv8_version() RETURNS text
  LANGUAGE sql AS $$ SELECT '3.1.10'::text $$;
