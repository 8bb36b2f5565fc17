-- A foreign data wrapper, its server and foreign tables: each dropped in reverse order (the
-- tables hold no data of their own: it lives on the remote side).
-- forward
create foreign data wrapper stripe_wrapper handler stripe_fdw_handler validator stripe_fdw_validator;
create server stripe_server foreign data wrapper stripe_wrapper options (api_key 'x');
create schema stripe;
create foreign table stripe.accounts (id text, email text) server stripe_server options (object 'accounts');
-- rollback
DROP FOREIGN TABLE IF EXISTS stripe.accounts;
DROP SCHEMA IF EXISTS stripe;
DROP SERVER IF EXISTS stripe_server;
DROP FOREIGN DATA WRAPPER IF EXISTS stripe_wrapper;
