-- stand-in: plpgsql_check
-- version: 2.7
-- schema: current
-- follows: okbob/plpgsql_check 2.7 (plpgsql_check--2.7.sql: the check functions, leading parameters)
--
-- The checker's entry points with their leading parameters; a check finds nothing (no rows):
-- the shadow never relies on its diagnostics. Its profiler and tracer are left out.
CREATE FUNCTION @extschema@.plpgsql_check_function(funcoid regprocedure,
  relid regclass DEFAULT 0, format text DEFAULT 'text', fatal_errors boolean DEFAULT true,
  other_warnings boolean DEFAULT true, performance_warnings boolean DEFAULT false,
  extra_warnings boolean DEFAULT true, security_warnings boolean DEFAULT false,
  compatibility_warnings boolean DEFAULT false) RETURNS SETOF text
  LANGUAGE sql AS $$ SELECT NULL::text WHERE false $$;
CREATE FUNCTION @extschema@.plpgsql_check_function(name text,
  relid regclass DEFAULT 0, format text DEFAULT 'text', fatal_errors boolean DEFAULT true,
  other_warnings boolean DEFAULT true, performance_warnings boolean DEFAULT false,
  extra_warnings boolean DEFAULT true, security_warnings boolean DEFAULT false,
  compatibility_warnings boolean DEFAULT false) RETURNS SETOF text
  LANGUAGE sql AS $$ SELECT NULL::text WHERE false $$;
CREATE FUNCTION @extschema@.plpgsql_check_function_tb(funcoid regprocedure,
  relid regclass DEFAULT 0, fatal_errors boolean DEFAULT true,
  other_warnings boolean DEFAULT true, performance_warnings boolean DEFAULT false,
  extra_warnings boolean DEFAULT true, security_warnings boolean DEFAULT false,
  compatibility_warnings boolean DEFAULT false)
  RETURNS TABLE(functionid regproc, lineno integer, statement text, sqlstate text,
                message text, detail text, hint text, level text, "position" integer,
                query text, context text)
  LANGUAGE sql AS $$
  SELECT NULL::regproc, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text,
         NULL::text, NULL::text, NULL::integer, NULL::text, NULL::text WHERE false
$$;
CREATE FUNCTION @extschema@.plpgsql_show_dependency_tb(funcoid regprocedure,
  relid regclass DEFAULT 0)
  RETURNS TABLE(type text, oid oid, schema text, name text, params text)
  LANGUAGE sql AS $$
  SELECT NULL::text, NULL::oid, NULL::text, NULL::text, NULL::text WHERE false
$$;
