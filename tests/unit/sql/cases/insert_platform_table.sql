-- Rows inserted into a table the platform made (a storage bucket) are deleted by the key
-- the platform's CREATE TABLE gave it: no migration declares it.
-- forward
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
insert into storage.buckets (name, id) values ('b2', 'b2x'), ('b3', 'b3x');
-- rollback
DELETE FROM storage.buckets WHERE id IN ('b2x', 'b3x');
DELETE FROM storage.buckets WHERE id IN ('avatars');
