-- forward
create table app.items (id bigint primary key, name text not null);
-- rollback
DROP TABLE IF EXISTS app.items;
