-- history
create table private.g (a int);
grant select on private.g to reader;
-- forward
-- another grantor's grant is its own ACL entry: the owner's REVOKE below leaves it, and
-- its undo revokes that entry (the same grantor)
grant select on private.g to reader granted by other_owner;
-- the owner's grant to reader was held: its REVOKE is undone by granting it back
revoke select on private.g from reader;
-- rollback
GRANT SELECT ON TABLE private.g TO reader;
REVOKE SELECT ON TABLE private.g FROM reader GRANTED BY other_owner;
