-- stand-in: pgroonga
-- version: 3.2.5
-- schema: pg_catalog
-- index-methods: pgroonga
-- follows: pgroonga/pgroonga 3.2 reference manual (the v2 operators, pgroonga_score, snippets)
--
-- The full-text search operators of PGroonga's v2 operator classes on text, text[] and
-- varchar (&@ match, &@~ query, &@* similar, &` script, &^ prefix, &@| and &@~| against
-- any of several keywords) and its everyday functions (score, snippets, highlighting,
-- escaping, normalising). The matching is a case-insensitive substring test, not Groonga's;
-- the score is 0. The access method cannot be written in SQL: the replayer builds an index
-- declared USING pgroonga as a btree on the shadow database only, and says so.
CREATE FUNCTION @extschema@.pgroonga_match_text(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT strpos(lower($1), lower($2)) > 0 $$;
CREATE FUNCTION @extschema@.pgroonga_query_text(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT strpos(lower($1), lower($2)) > 0 $$;
CREATE FUNCTION @extschema@.pgroonga_similar_text(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT false $$;
CREATE FUNCTION @extschema@.pgroonga_script_text(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT false $$;
CREATE FUNCTION @extschema@.pgroonga_prefix_text(text, text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT starts_with(lower($1), lower($2)) $$;
CREATE FUNCTION @extschema@.pgroonga_match_in_text(text, text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
  $$ SELECT EXISTS (SELECT 1 FROM unnest($2) k WHERE strpos(lower($1), lower(k)) > 0) $$;
CREATE FUNCTION @extschema@.pgroonga_query_in_text(text, text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
  $$ SELECT EXISTS (SELECT 1 FROM unnest($2) k WHERE strpos(lower($1), lower(k)) > 0) $$;
CREATE FUNCTION @extschema@.pgroonga_match_text_array(text[], text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
  $$ SELECT EXISTS (SELECT 1 FROM unnest($1) v WHERE strpos(lower(v), lower($2)) > 0) $$;
CREATE FUNCTION @extschema@.pgroonga_query_text_array(text[], text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
  $$ SELECT EXISTS (SELECT 1 FROM unnest($1) v WHERE strpos(lower(v), lower($2)) > 0) $$;

CREATE OPERATOR @extschema@.&@ (LEFTARG = text, RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_match_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@~ (LEFTARG = text, RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_query_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@* (LEFTARG = text, RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_similar_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&` (LEFTARG = text, RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_script_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&^ (LEFTARG = text, RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_prefix_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@| (LEFTARG = text, RIGHTARG = text[],
  FUNCTION = @extschema@.pgroonga_match_in_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@~| (LEFTARG = text, RIGHTARG = text[],
  FUNCTION = @extschema@.pgroonga_query_in_text, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@ (LEFTARG = text[], RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_match_text_array, RESTRICT = contsel, JOIN = contjoinsel);
CREATE OPERATOR @extschema@.&@~ (LEFTARG = text[], RIGHTARG = text,
  FUNCTION = @extschema@.pgroonga_query_text_array, RESTRICT = contsel, JOIN = contjoinsel);

CREATE FUNCTION @extschema@.pgroonga_score(tableoid oid, ctid tid) RETURNS double precision
  LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$ SELECT 0::float8 $$;
CREATE FUNCTION @extschema@.pgroonga_score("row" record) RETURNS double precision
  LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$ BEGIN RETURN 0; END $$;
CREATE FUNCTION @extschema@.pgroonga_snippet_html(target text, keywords text[]) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT ARRAY[$1] $$;
CREATE FUNCTION @extschema@.pgroonga_snippet_html(target text, keywords text[], width integer)
  RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT ARRAY[$1] $$;
CREATE FUNCTION @extschema@.pgroonga_highlight_html(target text, keywords text[]) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.pgroonga_query_escape(query text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.pgroonga_escape(value text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.pgroonga_normalize(target text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT lower($1) $$;
CREATE FUNCTION @extschema@.pgroonga_flush(indexName regclass) RETURNS boolean
  LANGUAGE sql VOLATILE STRICT AS $$ SELECT true $$;
CREATE FUNCTION @extschema@.pgroonga_command(groongaCommand text) RETURNS text
  LANGUAGE sql VOLATILE STRICT AS $$ SELECT '[]'::text $$;
