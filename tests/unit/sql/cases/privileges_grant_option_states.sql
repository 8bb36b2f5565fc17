-- history
create table private.held_with (a int);
grant select on private.held_with to reader with grant option;
create table private.held_without (a int);
grant select on private.held_without to reader;
create table private.lacked (a int);
create table private.again (a int);
grant select on private.again to reader with grant option;
-- forward
-- the option was held: the REVOKE GRANT OPTION FOR is undone by granting it back
revoke grant option for select on private.held_with from reader;
-- the privilege without the option: REVOKE GRANT OPTION FOR changed nothing
revoke grant option for select on private.held_without from reader;
-- nothing held: granting back WITH GRANT OPTION would open the table
revoke grant option for select on private.lacked from anon;
-- held with the option already: this GRANT changed nothing, its undo is nothing
grant select on private.again to reader with grant option;
-- held without the option: only the option is new
grant select on private.held_without to reader with grant option;
-- rollback
REVOKE GRANT OPTION FOR SELECT ON TABLE private.held_without FROM reader;
GRANT SELECT ON TABLE private.held_with TO reader WITH GRANT OPTION;
