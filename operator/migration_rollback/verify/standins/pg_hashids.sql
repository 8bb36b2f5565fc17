-- stand-in: pg_hashids
-- version: 1.3
-- schema: current
-- follows: iCyberon/pg_hashids 1.3 (pg_hashids--1.3.sql: id_encode / id_decode / id_decode_once)
--
-- The functions with their real signatures (salt, min_length, alphabet optional); the
-- encoding is a stand-in (decimal text, not a hashid): nothing on the shadow decodes real ids.
CREATE FUNCTION @extschema@.id_encode(bigint) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.id_encode(bigint[]) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT array_to_string($1, '-') $$;
CREATE FUNCTION @extschema@.id_decode(text) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT string_to_array($1, '-')::bigint[] $$;
CREATE FUNCTION @extschema@.id_decode_once(text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT (string_to_array($1, '-')::bigint[])[1] $$;
CREATE FUNCTION @extschema@.id_encode(bigint, text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.id_encode(bigint[], text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT array_to_string($1, '-') $$;
CREATE FUNCTION @extschema@.id_decode(text, text) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT string_to_array($1, '-')::bigint[] $$;
CREATE FUNCTION @extschema@.id_decode_once(text, text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT (string_to_array($1, '-')::bigint[])[1] $$;
CREATE FUNCTION @extschema@.id_encode(bigint, text, integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.id_encode(bigint[], text, integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT array_to_string($1, '-') $$;
CREATE FUNCTION @extschema@.id_decode(text, text, integer) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT string_to_array($1, '-')::bigint[] $$;
CREATE FUNCTION @extschema@.id_decode_once(text, text, integer) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT (string_to_array($1, '-')::bigint[])[1] $$;
CREATE FUNCTION @extschema@.id_encode(bigint, text, integer, text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.id_encode(bigint[], text, integer, text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT array_to_string($1, '-') $$;
CREATE FUNCTION @extschema@.id_decode(text, text, integer, text) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT string_to_array($1, '-')::bigint[] $$;
CREATE FUNCTION @extschema@.id_decode_once(text, text, integer, text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT (string_to_array($1, '-')::bigint[])[1] $$;
