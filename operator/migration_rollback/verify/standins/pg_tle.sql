-- stand-in: pg_tle
-- version: 1.4.0
-- schema: pgtle
-- follows: aws/pg_tle 1.4 (pg_tle--1.0.0.sql and its upgrade scripts)
--
-- pg_tle's management functions with their real signatures. Installing a TLE records it, but
-- CREATE EXTENSION of a TLE still needs the real pg_tle (the replay says so).
DO $standin$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgtle_admin') THEN
    CREATE ROLE pgtle_admin NOLOGIN;
  END IF;
END
$standin$;
CREATE SCHEMA IF NOT EXISTS pgtle;
CREATE TYPE pgtle.pg_tle_features AS ENUM ('passcheck', 'clientauth');
CREATE TYPE pgtle.password_types AS ENUM ('PASSWORD_TYPE_PLAINTEXT', 'PASSWORD_TYPE_MD5',
  'PASSWORD_TYPE_SCRAM_SHA_256');
CREATE TABLE pgtle.feature_info (
  feature pgtle.pg_tle_features, schema_name text, proname text, obj_identity text,
  PRIMARY KEY (feature, proname)
);
CREATE FUNCTION pgtle.install_extension(name text, version text, description text, ext text,
    requires text[] DEFAULT NULL) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.install_extension_version_sql(name text, version text, ext text)
  RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.install_update_path(name text, fromvers text, tovers text, ext text)
  RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.set_default_version(name text, version text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.uninstall_extension(extname text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.uninstall_extension(extname text, version text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.uninstall_extension_if_exists(extname text) RETURNS boolean
  LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.available_extensions()
  RETURNS TABLE(name name, default_version text, comment text)
  LANGUAGE sql AS $$ SELECT NULL::name, NULL::text, NULL::text WHERE false $$;
CREATE FUNCTION pgtle.available_extension_versions()
  RETURNS TABLE(name name, version text, superuser boolean, trusted boolean, relocatable boolean,
                schema name, requires name[], comment text)
  LANGUAGE sql AS $$ SELECT NULL::name, NULL::text, NULL::boolean, NULL::boolean, NULL::boolean,
                            NULL::name, NULL::name[], NULL::text WHERE false $$;
CREATE FUNCTION pgtle.register_feature(proc regproc, feature pgtle.pg_tle_features) RETURNS void
  LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION pgtle.register_feature_if_not_exists(proc regproc, feature pgtle.pg_tle_features)
  RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pgtle.unregister_feature(proc regproc, feature pgtle.pg_tle_features) RETURNS void
  LANGUAGE sql AS $$ SELECT $$;
GRANT USAGE ON SCHEMA pgtle TO PUBLIC;
