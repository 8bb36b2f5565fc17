-- stand-in: http
-- version: 1.6
-- schema: current
-- follows: pramsey/pgsql-http 1.6 (http--1.6.sql)
--
-- The http types and functions with their real signatures; every request answers status 0.
CREATE DOMAIN @extschema@.http_method AS text;
CREATE DOMAIN @extschema@.content_type AS text
  CHECK (VALUE ~ '^\S+\/\S+');
CREATE TYPE @extschema@.http_header AS (field character varying, value character varying);
CREATE TYPE @extschema@.http_response AS (
  status integer, content_type character varying, headers @extschema@.http_header[],
  content character varying
);
CREATE TYPE @extschema@.http_request AS (
  method @extschema@.http_method, uri character varying, headers @extschema@.http_header[],
  content_type character varying, content character varying
);
CREATE FUNCTION @extschema@.http(request @extschema@.http_request) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT ROW(0, NULL, '{}', NULL)::@extschema@.http_response $$;
CREATE FUNCTION @extschema@.http_header(field character varying, value character varying)
  RETURNS @extschema@.http_header
  LANGUAGE sql AS $$ SELECT ROW($1, $2)::@extschema@.http_header $$;
CREATE FUNCTION @extschema@.http_get(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('GET', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_get(uri character varying, data jsonb) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('GET', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_post(uri character varying, content character varying,
    content_type character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('POST', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_post(uri character varying, data jsonb) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('POST', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_put(uri character varying, content character varying,
    content_type character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('PUT', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_patch(uri character varying, content character varying,
    content_type character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('PATCH', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_delete(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('DELETE', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_delete(uri character varying, content character varying,
    content_type character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('DELETE', $1, NULL, $3, $2)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_head(uri character varying) RETURNS @extschema@.http_response
  LANGUAGE sql AS $$ SELECT @extschema@.http(('HEAD', $1, NULL, NULL, NULL)::@extschema@.http_request) $$;
CREATE FUNCTION @extschema@.http_set_curlopt(curlopt character varying, value character varying)
  RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.http_reset_curlopt() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.http_list_curlopt() RETURNS TABLE(curlopt text, value text)
  LANGUAGE sql AS $$ SELECT NULL::text, NULL::text WHERE false $$;
CREATE FUNCTION @extschema@.urlencode(string character varying) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.urlencode(string bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT encode($1, 'escape') $$;
CREATE FUNCTION @extschema@.urlencode(data jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1::text $$;
CREATE FUNCTION @extschema@.bytea_to_text(data bytea) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT convert_from($1, 'utf8') $$;
CREATE FUNCTION @extschema@.text_to_bytea(data text) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT convert_to($1, 'utf8') $$;
