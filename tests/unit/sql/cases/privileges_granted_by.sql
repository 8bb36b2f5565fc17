-- history
create table private.g (a int);
grant select on private.g to reader;
-- forward
-- GRANTED BY the role running it: the owner's entry (PostgreSQL takes no other grantor of
-- an object privilege than the current user), held already: nothing to undo
grant select on private.g to reader granted by current_user;
-- run as another role (SET ROLE before it), the grant is that role's own entry, which the
-- owner's REVOKE below leaves: its undo is its flip
grant select on private.g to reader granted by other_owner;
-- the owner's grant to reader was held: its REVOKE is undone by granting it back
revoke select on private.g from reader;
-- rollback
GRANT SELECT ON TABLE private.g TO reader;
REVOKE SELECT ON TABLE private.g FROM reader GRANTED BY other_owner;
