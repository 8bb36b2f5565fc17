-- forward
create schema reporting;
create extension if not exists pg_trgm with schema extensions;
create extension if not exists pgcrypto;
create publication reports_pub for table public.t;
-- rollback
DROP PUBLICATION IF EXISTS reports_pub;
DROP EXTENSION IF EXISTS pg_trgm;
DROP SCHEMA IF EXISTS reporting;
