"""The undo of GRANT/REVOKE ON ALL <kind> IN SCHEMA written from a before-state, object by
object (verify/stateful/schema_grants.py): pure, over hand-made snapshots."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.ddl import Writer
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.schema_grants import answers, undo


def table(name: str, *acl: str, kind: str = "table", schema: str = "public") -> SnapshotObject:
    return SnapshotObject(
        ObjectId(kind, f"{schema}.{name}"), {"privileges": acl}, None, {"schema": schema}
    )


OWNER = "postgres=DELETE,INSERT,MAINTAIN,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE"
BEFORE = Snapshot(
    {
        o.id: o
        for o in (
            table("a", OWNER, "anon=SELECT", '"Admin"=SELECT*'),
            table("b", OWNER),
            table("v", OWNER, "anon=INSERT,SELECT by other", kind="view"),
            table("elsewhere", OWNER, schema="private"),
            table("s", "postgres=SELECT,UPDATE,USAGE", kind="sequence"),
            SnapshotObject(
                ObjectId("schema", "public"),
                {"privileges": ("PUBLIC=USAGE", "anon=USAGE", "postgres=CREATE,USAGE")},
                None,
                {"schema": "public"},
            ),
        )
    }
)


def filled(text: str) -> list[str]:
    node = parse_script(text, "m.sql").statements[0].node
    assert answers(node)
    return undo(node, Writer(BEFORE, None, "postgres"), None)[0]


def test_a_grant_revokes_only_what_each_grantee_lacked() -> None:
    assert filled("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO anon") == [
        "REVOKE INSERT ON TABLE public.a FROM anon",
        "REVOKE SELECT, INSERT ON TABLE public.b FROM anon",
        # what another grantor gave is not the owner's GRANT's to keep
        "REVOKE SELECT, INSERT ON TABLE public.v FROM anon",
    ]


def test_a_quoted_role_keeps_its_case_and_the_option_alone_is_revoked() -> None:
    out = filled('GRANT SELECT ON ALL TABLES IN SCHEMA public TO "Admin", admin WITH GRANT OPTION')
    assert 'REVOKE SELECT ON TABLE public.b FROM "Admin"' in out
    assert not any('public.a FROM "Admin"' in s for s in out)  # held with the option
    assert "REVOKE SELECT ON TABLE public.a FROM admin" in out  # another role


def test_grant_all_names_what_this_server_has() -> None:
    out = filled("GRANT ALL ON ALL TABLES IN SCHEMA public TO anon")
    assert out[0] == (
        "REVOKE DELETE, INSERT, MAINTAIN, REFERENCES, TRIGGER, TRUNCATE, UPDATE "
        "ON TABLE public.a FROM anon"
    )
    assert filled("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon") == [
        "REVOKE SELECT, UPDATE, USAGE ON SEQUENCE public.s FROM anon"
    ]


def test_a_revoke_grants_back_what_was_held_with_its_option() -> None:
    assert filled('REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM anon, "Admin"') == [
        "GRANT SELECT ON TABLE public.a TO anon",
        'GRANT SELECT ON TABLE public.a TO "Admin" WITH GRANT OPTION',
    ]
    assert filled('REVOKE GRANT OPTION FOR SELECT ON ALL TABLES IN SCHEMA public FROM "Admin"') == [
        'GRANT SELECT ON TABLE public.a TO "Admin" WITH GRANT OPTION'
    ]


def test_a_schema_revoke_grants_back_what_was_held_there() -> None:
    """REVOKE ALL ON SCHEMA of a schema the migrations did not make (seohsirk's schema
    migration): what each grantee held comes back, nothing more (CREATE was never held)."""
    assert filled("REVOKE ALL ON SCHEMA public FROM PUBLIC, anon, authenticated") == [
        "GRANT USAGE ON SCHEMA public TO PUBLIC",
        "GRANT USAGE ON SCHEMA public TO anon",
    ]
    with pytest.raises(Unknown):
        filled("REVOKE ALL ON SCHEMA elsewhere FROM anon")


def test_current_user_is_not_guessed() -> None:
    with pytest.raises(Unknown):
        filled("GRANT SELECT ON ALL TABLES IN SCHEMA public TO CURRENT_USER")
