"""Repair of what a migration changed on an extension's own objects: privileges, owner and a
function's settings (`ALTER FUNCTION vector_out(vector) SET search_path …` in a loop over
pg_proc, `GRANT … ON ALL FUNCTIONS IN SCHEMA`).

Members are not in the snapshots (the extension makes them), so the round trip compares their
state apart (`member_differences`, as JSON objects); these are attributes PostgreSQL keeps for a
member as for any object, so the same ALTER / GRANT / REVOKE undo them on the real extension.
Anything else that differs (a body, a column) stays a difference.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from migration_rollback.sql.compose import SQL, Identifier, Literal, sql
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import (
    ObjectId,
    Snapshot,
    SnapshotObject,
    Value,
    normalize_acl,
)
from migration_rollback.verify.stateful.ddl import Writer
from migration_rollback.verify.stateful.lookups import Unknown

STANDIN_MEMBER = "stand-in member"

# The settings whose value is a list (pg_dump's GUC_LIST_QUOTE ones): each element its own
# literal, as `SET search_path TO 'public', 'extensions'` (one literal would be one schema).
_LIST_SETTINGS = frozenset(
    {"search_path", "temp_tablespaces", "session_preload_libraries", "local_preload_libraries",
     "shared_preload_libraries"}
)  # fmt: skip

# The state's keys a rollback can put back; the rest (bodies, columns…) it cannot.
_RESTORABLE = frozenset({"kind", "identity", "acl", "owner", "config"})


def member_repair(
    differences: Sequence[Difference], creator: str | None
) -> tuple[list[str], list[str], list[str]]:
    """SQL that puts back the privileges, owner and settings of changed extension members:
    (statements, what it did, what it could not)."""
    writer = Writer(Snapshot({}), None, creator)
    statements: list[str] = []
    done: list[str] = []
    failed: list[str] = []
    for d in differences:
        if d.object.kind != STANDIN_MEMBER:
            continue
        try:
            before = _state(d.before)
            statements += _if_present(before, _restore(writer, before, _state(d.after)))
            done.append(f"restores {d.object.name}")
        except Unknown as exc:
            failed.append(f"{d.object.name}: {exc}")
    return statements, done, failed


def _state(value: object) -> dict[str, Any]:
    if not isinstance(value, str) or not value.startswith("{"):
        raise Unknown("added or removed by the migration")
    state = json.loads(value)
    assert isinstance(state, dict)
    return state


def _restore(writer: Writer, before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    changed = {k for k in before.keys() | now.keys() if before.get(k) != now.get(k)}
    if changed - _RESTORABLE or changed & {"kind", "identity"}:
        raise Unknown(f"its {', '.join(sorted(changed - {'acl', 'owner', 'config'}))} changed")
    was, current = _object(before), _object(now)
    out = _settings(before, now)
    out += writer.owner(was, current)
    if "acl" in changed:
        out += writer.privileges(was, current)
    return out


# How a statement asks whether a member exists, by pg_identify_object's type: the member is the
# stand-in's, and the real extension may lack it (the stand-in's guess at its objects).
_LOOKUP = {
    "function": "to_regprocedure", "procedure": "to_regprocedure",
    "aggregate": "to_regprocedure", "type": "to_regtype", "schema": "to_regnamespace",
    "table": "to_regclass", "view": "to_regclass", "materialized view": "to_regclass",
    "sequence": "to_regclass", "foreign table": "to_regclass",
}  # fmt: skip


def _if_present(state: dict[str, Any], statements: list[str]) -> list[str]:
    """The statements in one DO block run only when the member exists: on the real database a
    member only the stand-in has was never changed, and an ALTER naming it would fail."""
    lookup = _LOOKUP.get(str(state["kind"]))
    if not statements or lookup is None or any(_TAG in s for s in statements):
        return statements
    body = SQL(" ").join(SQL("EXECUTE {};").format(Literal(s)) for s in statements)
    check = SQL("pg_catalog.{}({})").format(SQL(lookup), Literal(str(state["identity"])))
    block = SQL("DO {tag} BEGIN IF {} IS NOT NULL THEN {} END IF; END {tag}")
    return [block.format(check, body, tag=SQL(_TAG)).as_string()]


_TAG = "$member$"  # the DO block's quote; a statement holding it stays unguarded


def _object(state: dict[str, Any]) -> SnapshotObject:
    """The member as the privilege and owner writers see an object."""
    owner = str(state["owner"])
    attrs: dict[str, Value] = {
        "owner": Identifier(owner).as_string(),
        "privileges": normalize_acl(state.get("acl") or (), owner),
    }
    return SnapshotObject(ObjectId(str(state["kind"]), str(state["identity"])), attrs)


def _settings(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """`RESET ALL`, then each setting the function had (only when they differ)."""
    wanted = before.get("config") or []
    if wanted == (now.get("config") or []):
        return []
    keyword = "PROCEDURE" if before["kind"] == "procedure" else "FUNCTION"
    target = SQL("{} {}").format(SQL(keyword), SQL(str(before["identity"])))
    out = [sql("ALTER {} RESET ALL", target)]
    for item in wanted:
        name, _, value = str(item).partition("=")
        values = _list_items(value) if name in _LIST_SETTINGS else [value]
        listed = SQL(", ").join(Literal(v) for v in values)
        out.append(sql("ALTER {} SET {} TO {}", target, Identifier(name), listed))
    return out


def _list_items(value: str) -> list[str]:
    """A list setting's elements as proconfig keeps them (`"$user", public`), unquoted."""
    items = _LIST_ITEM.findall(value)
    return [i[1:-1].replace('""', '"') if i.startswith('"') else i.strip() for i in items]


_LIST_ITEM = re.compile(r'"(?:[^"]|"")*"|[^,\s][^,]*')
