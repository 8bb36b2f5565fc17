-- history
create schema private;
-- forward
-- PostgreSQL's own default gives PUBLIC EXECUTE on routines everywhere: the REVOKE took it
-- (seohsirk's schema migration), granted back
alter default privileges revoke execute on functions from public;
alter default privileges revoke usage on types from public;
-- a schema's entry only adds to the global one: PUBLIC held nothing there, nothing to undo
alter default privileges in schema private revoke execute on functions from public;
-- nor anywhere on tables
alter default privileges revoke select on tables from public;
-- rollback
ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
