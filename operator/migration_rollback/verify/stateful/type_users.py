"""What stands in the way of an enum swapped back (renamed aside, created again, dropped).

PostgreSQL rewrites the columns of a type itself, but anything else that names the type keeps
naming the old one after the rename, and the old type cannot be dropped ("cannot drop type
t__mr_old because function f(t__mr_old) depends on it"). These are found here, in the order
they are recreated; the swap drops them (in reverse) before the rename and recreates them from
the before-state after the old type is gone. Pure: reads a snapshot, no database.
"""

from __future__ import annotations

from migration_rollback.sql.compose import Identifier
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.lookups import mentions

# Recreation order: functions before what calls them, views in the order they were found
# (a view over a view is found after it), table members last.
_ORDER = {"function": 0, "procedure": 0, "constraint": 2, "index": 3, "policy": 4, "trigger": 5}
_VIEW_RANK = 1


def _texts(obj: SnapshotObject) -> str:
    """The expressions of an object that can name a type or call a function."""
    kind = obj.id.kind
    if kind == "policy":
        return f"{obj.text('using') or ''} {obj.text('with check') or ''}"
    if kind in ("function", "procedure"):
        return f"{obj.text('arguments') or ''} {obj.text('returns') or ''}"
    return str(obj.text("definition") or "")


def _callable_name(obj: SnapshotObject) -> str | None:
    schema, name = obj.extra_text("schema"), obj.extra_text("name")
    if schema is None or name is None:
        return None
    return Identifier(schema, name).as_string()


def _uses(obj: SnapshotObject, names: list[str]) -> bool:
    text = _texts(obj)
    return any(mentions(text, name) or mentions(text, f"{name}[]") for name in names)


def type_users(
    before: Snapshot, type_name: str, also: list[SnapshotObject]
) -> list[SnapshotObject]:
    """Functions whose signature names the type, and the views, policies, CHECK constraints
    and trigger conditions that name it or call those functions (or use those views), with
    `also` (what uses the type's columns), in the order they are recreated."""
    functions = [o for o in before.of_kind("function", "procedure") if _uses(o, [type_name])]
    found: dict[ObjectId, SnapshotObject] = {o.id: o for o in [*also, *functions]}
    names = [type_name, *(n for f in functions if (n := _callable_name(f)) is not None)]
    names += [o.id.name for o in also if o.id.kind in ("view", "materialized view")]
    rank: dict[ObjectId, int] = {}
    frontier = names
    depth = 0
    while frontier:
        depth += 1
        views = [
            v
            for v in before.of_kind("view", "materialized view")
            if v.id not in found and _uses(v, frontier)
        ]
        for view in views:
            found[view.id] = view
            rank[view.id] = depth
        frontier = [v.id.name for v in views]
        names += frontier
    for obj in before.of_kind("policy", "constraint", "trigger"):
        if obj.id in found or not _member_uses(obj, names):
            continue
        found[obj.id] = obj
    return sorted(
        found.values(),
        key=lambda o: (_ORDER.get(o.id.kind, _VIEW_RANK), rank.get(o.id, 0), o.id.name),
    )


def _member_uses(obj: SnapshotObject, names: list[str]) -> bool:
    kind = obj.id.kind
    if kind == "constraint" and obj.get("type") not in ("check", "exclusion"):
        return False
    if kind == "trigger" and " WHEN " not in str(obj.text("definition")):
        return False
    return _uses(obj, names)
