-- CREATE EXTENSION sets its control file's comment: an earlier migration's extension without a
-- COMMENT statement still had one, so the comment it had is not known from the SQL (MANUAL);
-- an extension made here is dropped by the rollback, its comment with it.
-- history
create extension pg_trgm;
-- forward
comment on extension pg_trgm is 'trigrams';
create extension hstore;
comment on extension hstore is 'key/value';
-- manual
PRIOR_DEFINITION
-- rollback
COMMENT ON EXTENSION hstore IS NULL;
DROP EXTENSION IF EXISTS hstore;
