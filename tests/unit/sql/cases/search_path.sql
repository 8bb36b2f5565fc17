-- forward
set search_path = billing, public;
create table invoices (id int);
-- rollback
DROP TABLE IF EXISTS billing.invoices;
