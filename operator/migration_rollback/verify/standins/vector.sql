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
