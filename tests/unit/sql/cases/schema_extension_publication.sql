-- pg_trgm may have been enabled in the dashboard: its DROP is a human's call.
-- forward
create schema reporting;
create extension if not exists pg_trgm with schema extensions;
create extension if not exists pgcrypto;
create publication reports_pub for table public.t;
-- manual
PRIOR_DEFINITION
-- rollback
DROP PUBLICATION IF EXISTS reports_pub;
DROP SCHEMA IF EXISTS reporting;
