-- stand-in: pgjwt
-- version: 0.2.0
-- schema: current
-- requires: pgcrypto
-- follows: michelp/pgjwt 0.2
--
-- pgjwt's functions with their real signatures; tokens are not really signed.
CREATE FUNCTION @extschema@.url_encode(data bytea) RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$ SELECT translate(encode(data, 'base64'), E'+/=\n', '-_') $$;
CREATE FUNCTION @extschema@.url_decode(data text) RETURNS bytea
  LANGUAGE sql IMMUTABLE
AS $$ SELECT decode(translate(data, '-_', '+/') || repeat('=', (4 - length(data) % 4) % 4), 'base64') $$;
CREATE FUNCTION @extschema@.algorithm_sign(signables text, secret text, algorithm text)
  RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$ SELECT @extschema@.url_encode(convert_to(md5(signables || secret), 'utf8')) $$;
CREATE FUNCTION @extschema@.sign(payload json, secret text, algorithm text DEFAULT 'HS256')
  RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT @extschema@.url_encode(convert_to('{"alg":"' || algorithm || '","typ":"JWT"}', 'utf8'))
    || '.' || @extschema@.url_encode(convert_to(payload::text, 'utf8'))
$$;
CREATE FUNCTION @extschema@.try_cast_double(inp text) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN RETURN inp::double precision; EXCEPTION WHEN OTHERS THEN RETURN NULL; END $$;
CREATE FUNCTION @extschema@.verify(token text, secret text, algorithm text DEFAULT 'HS256')
  RETURNS TABLE(header json, payload json, valid boolean)
  LANGUAGE sql IMMUTABLE
AS $$ SELECT NULL::json, NULL::json, false $$;
