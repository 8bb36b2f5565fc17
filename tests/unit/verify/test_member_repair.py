"""The repair of an extension member's settings, privileges and owner, from the two states the
round trip compared (pure: the SQL it writes; the integration tests prove it on PostgreSQL)."""

from __future__ import annotations

import json
import re

from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import ObjectId
from migration_rollback.verify.stateful.members import STANDIN_MEMBER, member_repair

FN = "public.vector_out(public.vector)"


def _state(**changes: object) -> str:
    state = {"kind": "function", "identity": FN, "owner": "postgres", "config": None,
             "acl": ["=X/postgres", "postgres=X/postgres"], "rest": "abc|f|i"}  # fmt: skip
    return json.dumps({**state, **changes}, sort_keys=True)


def _repair(before: str, after: str) -> tuple[list[str], list[str], list[str]]:
    """The statements inside the repair's guard (see test_only_when_the_member_exists)."""
    obj = ObjectId(STANDIN_MEMBER, f"function {FN} (extension vector)")
    sql, done, failed = member_repair([Difference(obj, "definition", before, after)], "postgres")
    inner = [s.replace(Q + Q, Q) for b in sql for s in EXECUTE.findall(b)]
    return inner, done, failed


Q = "'"
EXECUTE = re.compile(r"EXECUTE '((?:[^']|'')*)';")


def test_only_when_the_member_exists() -> None:
    # the member is the stand-in's: the real extension may lack it (pgvector has no
    # halfvec_typmod_out), and an ALTER naming it would fail there
    obj = ObjectId(STANDIN_MEMBER, f"function {FN} (extension vector)")
    before, after = _state(config=["work_mem=8MB"]), _state()
    sql, _, _ = member_repair([Difference(obj, "definition", before, after)], "postgres")
    assert sql == [
        f"DO $member$ BEGIN IF pg_catalog.to_regprocedure({Q}{FN}{Q}) IS NOT NULL THEN"
        f" EXECUTE {Q}ALTER FUNCTION {FN} RESET ALL{Q};"
        f" EXECUTE {Q}ALTER FUNCTION {FN} SET work_mem TO {Q}{Q}8MB{Q}{Q}{Q};"
        " END IF; END $member$"
    ]


def test_list_settings_are_one_literal_per_element() -> None:
    before = _state(config=['search_path="$user", public, "odd,name"', "work_mem=8MB"])
    sql, done, failed = _repair(before, _state(config=["search_path=public"]))
    assert sql == [
        f"ALTER FUNCTION {FN} RESET ALL",
        f"ALTER FUNCTION {FN} SET search_path TO '$user', 'public', 'odd,name'",
        f"ALTER FUNCTION {FN} SET work_mem TO '8MB'",
    ]
    assert done
    assert not failed


def test_owner_and_privileges_come_back() -> None:
    sql, _, failed = _repair(_state(), _state(owner="authenticated", acl=["=X/authenticated"]))
    assert f"ALTER FUNCTION {FN} OWNER TO postgres" in sql
    assert any(s.startswith(f"REVOKE ALL ON FUNCTION {FN} FROM") for s in sql)
    assert f"GRANT EXECUTE ON FUNCTION {FN} TO PUBLIC" in sql
    assert not failed


def test_a_changed_body_is_not_repaired() -> None:
    sql, done, failed = _repair(_state(), _state(rest="def|f|i"))
    assert (sql, done) == ([], [])
    assert failed
    assert "rest" in failed[0]


def test_a_member_added_or_removed_is_not_repaired() -> None:
    obj = ObjectId(STANDIN_MEMBER, f"function {FN} (extension vector)")
    sql, _, failed = member_repair([Difference(obj, "exists", True, False)], "postgres")
    assert sql == []
    assert failed
