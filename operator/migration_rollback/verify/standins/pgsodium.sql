-- stand-in: pgsodium
-- version: 3.1.8
-- schema: pgsodium
-- follows: michelp/pgsodium 3.1 (as installed by supabase/postgres 15.8)
--
-- The key table, its views, the key roles and the common crypto functions with their real
-- signatures. Nothing is encrypted: "encryption" returns its input, keys are random bytes.
DO $standin$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['pgsodium_keyiduser', 'pgsodium_keyholder', 'pgsodium_keymaker'] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$standin$;
CREATE SCHEMA IF NOT EXISTS pgsodium;
CREATE TYPE pgsodium.key_status AS ENUM ('default', 'valid', 'invalid', 'expired');
CREATE TYPE pgsodium.key_type AS ENUM ('aead-ietf', 'aead-det', 'hmacsha512', 'hmacsha256',
  'auth', 'shorthash', 'generichash', 'kdf', 'secretbox', 'secretstream', 'stream_xchacha20');
CREATE FUNCTION pgsodium.randombytes_buf(size integer) RETURNS bytea
  LANGUAGE sql AS $$ SELECT pg_catalog.decode(pg_catalog.repeat('00', size), 'hex') $$;
CREATE FUNCTION pgsodium.randombytes_random() RETURNS integer
  LANGUAGE sql AS $$ SELECT (pg_catalog.random() * 2147483647)::integer $$;
CREATE TABLE pgsodium.key (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  status pgsodium.key_status DEFAULT 'valid',
  created timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires timestamp with time zone,
  key_type pgsodium.key_type,
  key_id bigint,
  key_context bytea DEFAULT '\x7067736f6469756d',
  name text UNIQUE,
  associated_data text DEFAULT 'associated',
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid REFERENCES pgsodium.key (id),
  comment text,
  user_data text
);
CREATE VIEW pgsodium.valid_key AS
  SELECT id, name, status, key_type, key_id, key_context, created, expires, associated_data
  FROM pgsodium.key
  WHERE status IN ('valid', 'default') AND (expires IS NULL OR expires > now());
CREATE VIEW pgsodium.decrypted_key AS
  SELECT id, status, created, expires, key_type, key_id, key_context, name, associated_data,
         raw_key, raw_key AS decrypted_raw_key, raw_key_nonce, parent_key, comment
  FROM pgsodium.key;
CREATE VIEW pgsodium.masking_rule AS
  SELECT NULL::oid AS attrelid, NULL::integer AS attnum, NULL::regnamespace AS relnamespace,
         NULL::name AS relname, NULL::name AS attname, NULL::text AS format_type,
         NULL::text AS col_description, NULL::text AS key_id_column, NULL::uuid AS key_id,
         NULL::text AS associated_columns, NULL::text AS nonce_column, NULL::text AS view_name,
         NULL::integer AS priority, NULL::boolean AS security_invoker
  WHERE false;
CREATE FUNCTION pgsodium.create_key(key_type pgsodium.key_type DEFAULT 'aead-det',
    name text DEFAULT NULL, raw_key bytea DEFAULT NULL, raw_key_nonce bytea DEFAULT NULL,
    parent_key uuid DEFAULT NULL, key_context bytea DEFAULT '\x7067736f6469756d',
    expires timestamp with time zone DEFAULT NULL, associated_data text DEFAULT '')
  RETURNS pgsodium.valid_key
  LANGUAGE sql SECURITY DEFINER
AS $$
  WITH k AS (
    INSERT INTO pgsodium.key (key_type, name, raw_key, raw_key_nonce, parent_key, key_context,
                              expires, associated_data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
  )
  SELECT id, name, status, key_type, key_id, key_context, created, expires, associated_data FROM k
$$;
CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea,
    key_uuid uuid, nonce bytea DEFAULT NULL) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea,
    key_uuid uuid, nonce bytea DEFAULT NULL) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea,
    key_id bigint, context bytea DEFAULT 'pgsodium', nonce bytea DEFAULT NULL) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea,
    key_id bigint, context bytea DEFAULT 'pgsodium', nonce bytea DEFAULT NULL) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_det_keygen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE FUNCTION pgsodium.crypto_aead_det_noncegen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(16) $$;
CREATE FUNCTION pgsodium.crypto_secretbox_keygen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE FUNCTION pgsodium.crypto_secretbox_noncegen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(24) $$;
CREATE FUNCTION pgsodium.crypto_secretbox(message bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_secretbox_open(ciphertext bytea, nonce bytea, key bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT ciphertext $$;
CREATE FUNCTION pgsodium.crypto_hash_sha256(message bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.sha256(message) $$;
CREATE FUNCTION pgsodium.crypto_hash_sha512(message bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.sha512(message) $$;
CREATE FUNCTION pgsodium.crypto_generichash(message bytea, key bytea DEFAULT NULL) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.sha256(message) $$;
CREATE FUNCTION pgsodium.crypto_sign_new_keypair() RETURNS TABLE(public bytea, secret bytea)
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32), pgsodium.randombytes_buf(64) $$;
CREATE FUNCTION pgsodium.crypto_box_new_keypair() RETURNS TABLE(public bytea, secret bytea)
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32), pgsodium.randombytes_buf(32) $$;
CREATE FUNCTION pgsodium.crypto_pwhash_str(password bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT pg_catalog.sha256(password) $$;
CREATE FUNCTION pgsodium.crypto_pwhash_str_verify(hashed_password bytea, password bytea)
  RETURNS boolean
  LANGUAGE sql AS $$ SELECT hashed_password = pg_catalog.sha256(password) $$;
CREATE FUNCTION pgsodium.derive_key(key_id bigint, key_len integer DEFAULT 32,
  context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql STRICT AS $$ SELECT substring(pg_catalog.sha512(context) for key_len) $$;
CREATE FUNCTION pgsodium.crypto_kdf_keygen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_keygen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(32) $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_noncegen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pgsodium.randombytes_buf(12) $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_encrypt(message bytea, additional bytea, nonce bytea,
  key bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_decrypt(message bytea, additional bytea, nonce bytea,
  key bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_encrypt(message bytea, additional bytea, nonce bytea,
  key_id bigint, context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_aead_ietf_decrypt(message bytea, additional bytea, nonce bytea,
  key_id bigint, context bytea DEFAULT '\x7067736f6469756d'::bytea) RETURNS bytea
  LANGUAGE sql AS $$ SELECT message $$;
CREATE FUNCTION pgsodium.crypto_auth(message bytea, key bytea) RETURNS bytea
  LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.sha256(message || key) $$;
CREATE FUNCTION pgsodium.crypto_auth_verify(mac bytea, message bytea, key bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS $$ SELECT mac = pg_catalog.sha256(message || key) $$;
GRANT USAGE ON SCHEMA pgsodium TO pgsodium_keyiduser, pgsodium_keyholder, pgsodium_keymaker;
GRANT SELECT ON pgsodium.valid_key TO pgsodium_keyiduser;
GRANT EXECUTE ON FUNCTION pgsodium.crypto_aead_det_encrypt(bytea, bytea, uuid, bytea),
  pgsodium.crypto_aead_det_decrypt(bytea, bytea, uuid, bytea),
  pgsodium.crypto_aead_det_keygen() TO service_role;
