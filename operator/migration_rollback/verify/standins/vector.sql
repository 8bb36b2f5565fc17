-- stand-in: vector
-- version: 0.8.0
-- schema: current
-- index-methods: hnsw ivfflat
-- follows: pgvector/pgvector 0.8 (sql/vector.sql)
--
-- The types vector, halfvec and sparsevec with their type modifiers (vector(1536)), their
-- operators (<->, <#>, <=>, <+>, arithmetic, comparison) and distance functions, casts from
-- arrays, and a default btree operator class. Values are stored as text (the input and output
-- functions are the built-in ones of text; no dimension check) and every distance is 0.
-- The access methods hnsw and ivfflat cannot be written in SQL: the replayer builds an index
-- declared USING hnsw/ivfflat as a btree on the shadow database only, and says so.
DO $standin$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['vector', 'halfvec', 'sparsevec'] LOOP
    EXECUTE format('CREATE TYPE @extschema@.%I', t);
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_in(cstring, oid, integer) RETURNS @extschema@.%1$I
      LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'textin');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_out(@extschema@.%1$I) RETURNS cstring
      LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'textout');
    -- The typmod is the dimension, as bit(n)'s; like pgvector, no typmod output function (the
    -- default prints vector(768)): a member the real extension lacks would be one a rollback
    -- writes ALTER FUNCTION for and the real database has not.
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_typmod_in(cstring[]) RETURNS integer
      LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'bittypmodin');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_recv(internal, oid, integer) RETURNS @extschema@.%1$I
      LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'textrecv');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_send(@extschema@.%1$I) RETURNS bytea
      LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'textsend');
    EXECUTE format('CREATE TYPE @extschema@.%1$I (INPUT = @extschema@.%1$I_in, OUTPUT = @extschema@.%1$I_out,
      TYPMOD_IN = @extschema@.%1$I_typmod_in,
      RECEIVE = @extschema@.%1$I_recv, SEND = @extschema@.%1$I_send, STORAGE = external)', t);
    -- distances: l2, negative inner product, cosine, l1
    EXECUTE format('CREATE FUNCTION @extschema@.l2_distance(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.inner_product(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.cosine_distance(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.l1_distance(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_negative_inner_product(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_cmp(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS integer LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'bttextcmp');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_lt(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'text_lt');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_le(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'text_le');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_eq(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'texteq');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_ne(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'textne');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_ge(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'text_ge');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_gt(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS boolean LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'text_gt');
    EXECUTE format('CREATE OPERATOR @extschema@.<-> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->))', t);
    EXECUTE format('CREATE OPERATOR @extschema@.<#> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>))', t);
    EXECUTE format('CREATE OPERATOR @extschema@.<=> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>))', t);
    EXECUTE format('CREATE OPERATOR @extschema@.<+> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>))', t);
    EXECUTE format('CREATE OPERATOR @extschema@.< (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_lt)', t);
    EXECUTE format('CREATE OPERATOR @extschema@.<= (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_le)', t);
    EXECUTE format('CREATE OPERATOR @extschema@.= (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_eq, COMMUTATOR = OPERATOR(@extschema@.=))', t);
    EXECUTE format('CREATE OPERATOR @extschema@.<> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_ne)', t);
    EXECUTE format('CREATE OPERATOR @extschema@.>= (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_ge)', t);
    EXECUTE format('CREATE OPERATOR @extschema@.> (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_gt)', t);
    EXECUTE format('CREATE OPERATOR CLASS @extschema@.%1$I_ops DEFAULT FOR TYPE @extschema@.%1$I USING btree AS
      OPERATOR 1 @extschema@.< , OPERATOR 2 @extschema@.<= , OPERATOR 3 @extschema@.= ,
      OPERATOR 4 @extschema@.>= , OPERATOR 5 @extschema@.> , FUNCTION 1 @extschema@.%1$I_cmp(@extschema@.%1$I, @extschema@.%1$I)', t);
  END LOOP;
END
$standin$;

CREATE FUNCTION @extschema@.vector_dims(@extschema@.vector) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0 $$;
CREATE FUNCTION @extschema@.vector_norm(@extschema@.vector) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::float8 $$;
CREATE FUNCTION @extschema@.l2_normalize(@extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.subvector(@extschema@.vector, integer, integer) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE OPERATOR @extschema@.+ (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
  FUNCTION = @extschema@.vector_add, COMMUTATOR = OPERATOR(@extschema@.+));
CREATE OPERATOR @extschema@.- (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
  FUNCTION = @extschema@.vector_sub);
CREATE OPERATOR @extschema@.* (LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
  FUNCTION = @extschema@.vector_mul, COMMUTATOR = OPERATOR(@extschema@.*));

-- casts between arrays and vectors, and between the vector types
CREATE FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.array_to_vector(real[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text::@extschema@.vector $$;
CREATE FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text::@extschema@.vector $$;
CREATE FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text::@extschema@.vector $$;
CREATE FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) RETURNS @extschema@.vector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text::@extschema@.vector $$;
CREATE FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) RETURNS real[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT '{}'::real[] $$;
CREATE FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text::@extschema@.halfvec $$;
CREATE CAST (@extschema@.vector AS @extschema@.vector)
  WITH FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) AS IMPLICIT;
CREATE CAST (@extschema@.halfvec AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (real[] AS @extschema@.vector)
  WITH FUNCTION @extschema@.array_to_vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS @extschema@.vector)
  WITH FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS @extschema@.vector)
  WITH FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS @extschema@.vector)
  WITH FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.vector AS real[])
  WITH FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) AS IMPLICIT;
CREATE CAST (@extschema@.vector AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) AS IMPLICIT;

-- The rest of pgvector 0.8's functions, so that what names them (a dump's GRANT ALL ON
-- FUNCTION for every member of an extension kept in public, an aggregate over vectors) replays:
-- the arithmetic of halfvec, the accumulators behind avg and sum, the conversions between the
-- three types, the bit distances and the index access methods' support functions.
DO $standin$
DECLARE
  t text;
  src text;
  dst text;
  arr text;
BEGIN
  FOREACH t IN ARRAY ARRAY['vector', 'halfvec', 'sparsevec'] LOOP
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_l2_squared_distance(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    IF t <> 'vector' THEN
      EXECUTE format('CREATE FUNCTION @extschema@.l2_norm(@extschema@.%1$I) RETURNS double precision
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
      EXECUTE format('CREATE FUNCTION @extschema@.l2_normalize(@extschema@.%1$I) RETURNS @extschema@.%1$I
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT $1');
    END IF;
    FOREACH arr IN ARRAY ARRAY['real[]', 'double precision[]', 'integer[]', 'numeric[]'] LOOP
      CONTINUE WHEN t = 'vector';
      EXECUTE format('CREATE FUNCTION @extschema@.array_to_%1$s(%2$s, integer, boolean) RETURNS @extschema@.%1$I
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %3$L', t, arr, format('SELECT $1::text::@extschema@.%I', t));
    END LOOP;
    FOREACH dst IN ARRAY ARRAY['vector', 'halfvec', 'sparsevec'] LOOP
      CONTINUE WHEN dst = t OR (t = 'vector' AND dst = 'halfvec');
      EXECUTE format('CREATE FUNCTION @extschema@.%1$s_to_%2$s(@extschema@.%1$I, integer, boolean)
        RETURNS @extschema@.%2$I LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %3$L',
        t, dst, format('SELECT $1::text::@extschema@.%I', dst));
    END LOOP;
  END LOOP;
  FOREACH t IN ARRAY ARRAY['vector', 'halfvec'] LOOP
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_spherical_distance(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT 0::float8');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_concat(@extschema@.%1$I, @extschema@.%1$I)
      RETURNS @extschema@.%1$I LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT $1');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_accum(double precision[], @extschema@.%1$I)
      RETURNS double precision[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT $1');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_combine(double precision[], double precision[])
      RETURNS double precision[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT $1');
    EXECUTE format('CREATE FUNCTION @extschema@.%1$I_avg(double precision[]) RETURNS @extschema@.%1$I
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, format('SELECT NULL::@extschema@.%I', t));
    EXECUTE format('CREATE FUNCTION @extschema@.binary_quantize(@extschema@.%1$I) RETURNS bit
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', t, 'SELECT B''0''');
    EXECUTE format('CREATE OPERATOR @extschema@.|| (LEFTARG = @extschema@.%1$I, RIGHTARG = @extschema@.%1$I,
      FUNCTION = @extschema@.%1$I_concat)', t);
  END LOOP;
  FOREACH src IN ARRAY ARRAY['add', 'sub', 'mul'] LOOP
    EXECUTE format('CREATE FUNCTION @extschema@.halfvec_%1$s(@extschema@.halfvec, @extschema@.halfvec)
      RETURNS @extschema@.halfvec LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %2$L', src, 'SELECT $1');
  END LOOP;
  FOREACH src IN ARRAY ARRAY['hnsw_bit', 'hnsw_halfvec', 'hnsw_sparsevec', 'ivfflat_bit', 'ivfflat_halfvec'] LOOP
    EXECUTE format('CREATE FUNCTION @extschema@.%1$s_support(internal) RETURNS internal
      LANGUAGE internal AS %2$L', src, 'btint4sortsupport');
  END LOOP;
END
$standin$;

CREATE FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) RETURNS @extschema@.sparsevec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) RETURNS real[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT '{}'::real[] $$;
CREATE FUNCTION @extschema@.vector_dims(@extschema@.halfvec) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0 $$;
CREATE FUNCTION @extschema@.subvector(@extschema@.halfvec, integer, integer) RETURNS @extschema@.halfvec
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1 $$;
CREATE FUNCTION @extschema@.hamming_distance(bit, bit) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::float8 $$;
CREATE FUNCTION @extschema@.jaccard_distance(bit, bit) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT 0::float8 $$;
-- the access methods' handlers: the built-in btree's (no index is built with them, see above)
CREATE FUNCTION @extschema@.hnswhandler(internal) RETURNS index_am_handler LANGUAGE internal AS 'bthandler';
CREATE FUNCTION @extschema@.ivfflathandler(internal) RETURNS index_am_handler LANGUAGE internal AS 'bthandler';
CREATE AGGREGATE @extschema@.avg(@extschema@.vector) (SFUNC = @extschema@.vector_accum,
  STYPE = double precision[], FINALFUNC = @extschema@.vector_avg,
  COMBINEFUNC = @extschema@.vector_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.avg(@extschema@.halfvec) (SFUNC = @extschema@.halfvec_accum,
  STYPE = double precision[], FINALFUNC = @extschema@.halfvec_avg,
  COMBINEFUNC = @extschema@.halfvec_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sum(@extschema@.vector) (SFUNC = @extschema@.vector_add,
  STYPE = @extschema@.vector, COMBINEFUNC = @extschema@.vector_add, PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sum(@extschema@.halfvec) (SFUNC = @extschema@.halfvec_add,
  STYPE = @extschema@.halfvec, COMBINEFUNC = @extschema@.halfvec_add, PARALLEL = SAFE);
CREATE OPERATOR @extschema@.+ (LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
  FUNCTION = @extschema@.halfvec_add, COMMUTATOR = OPERATOR(@extschema@.+));
CREATE OPERATOR @extschema@.- (LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
  FUNCTION = @extschema@.halfvec_sub);
CREATE OPERATOR @extschema@.* (LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
  FUNCTION = @extschema@.halfvec_mul, COMMUTATOR = OPERATOR(@extschema@.*));
CREATE OPERATOR @extschema@.<~> (LEFTARG = bit, RIGHTARG = bit,
  FUNCTION = @extschema@.hamming_distance, COMMUTATOR = OPERATOR(@extschema@.<~>));
CREATE OPERATOR @extschema@.<%> (LEFTARG = bit, RIGHTARG = bit,
  FUNCTION = @extschema@.jaccard_distance, COMMUTATOR = OPERATOR(@extschema@.<%>));
CREATE CAST (@extschema@.sparsevec AS @extschema@.sparsevec)
  WITH FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) AS IMPLICIT;
CREATE CAST (@extschema@.halfvec AS @extschema@.vector)
  WITH FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.halfvec AS real[])
  WITH FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.sparsevec AS @extschema@.vector)
  WITH FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.vector AS @extschema@.sparsevec)
  WITH FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.halfvec AS @extschema@.sparsevec)
  WITH FUNCTION @extschema@.halfvec_to_sparsevec(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (@extschema@.sparsevec AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.sparsevec_to_halfvec(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS @extschema@.halfvec)
  WITH FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;
