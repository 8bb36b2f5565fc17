-- stand-in: supabase_vault
-- version: 0.3.1
-- schema: vault
-- follows: supabase/supabase_vault 0.3 (as installed by supabase/postgres 15.8)
--
-- vault.secrets, the decrypted_secrets view and the create/update functions with their real
-- signatures. Nothing is encrypted: decrypted_secret is the stored text.
CREATE SCHEMA IF NOT EXISTS vault;
CREATE FUNCTION vault._crypto_aead_det_noncegen() RETURNS bytea
  LANGUAGE sql AS $$ SELECT pg_catalog.decode(pg_catalog.md5(pg_catalog.random()::text), 'hex') $$;
CREATE TABLE vault.secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text,
  description text NOT NULL DEFAULT '',
  secret text NOT NULL,
  key_id uuid,
  nonce bytea DEFAULT vault._crypto_aead_det_noncegen(),
  created_at timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE vault.secrets IS 'Table with encrypted `secret` column for storing sensitive information on disk.';
CREATE UNIQUE INDEX secrets_name_idx ON vault.secrets (name) WHERE name IS NOT NULL;
CREATE VIEW vault.decrypted_secrets AS
  SELECT id, name, description, secret, secret AS decrypted_secret, key_id, nonce,
         created_at, updated_at
  FROM vault.secrets;
CREATE FUNCTION vault.create_secret(new_secret text, new_name text DEFAULT NULL,
    new_description text DEFAULT '', new_key_id uuid DEFAULT NULL)
  RETURNS uuid
  LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  INSERT INTO vault.secrets (secret, name, description, key_id)
  VALUES (new_secret, new_name, new_description, new_key_id) RETURNING id
$$;
CREATE FUNCTION vault.update_secret(secret_id uuid, new_secret text DEFAULT NULL,
    new_name text DEFAULT NULL, new_description text DEFAULT NULL, new_key_id uuid DEFAULT NULL)
  RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  UPDATE vault.secrets SET secret = coalesce(new_secret, secret), name = coalesce(new_name, name),
    description = coalesce(new_description, description), key_id = coalesce(new_key_id, key_id),
    updated_at = now()
  WHERE id = secret_id
$$;
REVOKE ALL ON SCHEMA vault FROM PUBLIC;
REVOKE ALL ON vault.secrets, vault.decrypted_secrets FROM PUBLIC;
REVOKE ALL ON FUNCTION vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid) FROM PUBLIC;
GRANT USAGE ON SCHEMA vault TO postgres, service_role WITH GRANT OPTION;
GRANT SELECT, DELETE ON vault.secrets, vault.decrypted_secrets TO postgres, service_role
  WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid) TO postgres, service_role WITH GRANT OPTION;
