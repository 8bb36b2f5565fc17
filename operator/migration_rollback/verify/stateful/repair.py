"""Repair from a diff: SQL that removes the differences a round trip found (objects a CASCADE
took with it, objects a DO block created...), so `generate --verify` converges.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Sequence

from migration_rollback.errors import UnsafeOutputError
from migration_rollback.sql import ObjectRef
from migration_rollback.sql.compose import SQL, Identifier, sql
from migration_rollback.sql.kinds import creation_rank
from migration_rollback.verify.diff import EXISTS, Difference
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.acl import _GRANT_KEYWORD
from migration_rollback.verify.stateful.columns import restore_column
from migration_rollback.verify.stateful.ddl import Writer, checked
from migration_rollback.verify.stateful.enum_swap import enum_as_before
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.renames import Rename, find_renames, split_replaced
from migration_rollback.verify.stateful.tables import replica_identity


def repair(
    differences: Sequence[Difference],
    before: Snapshot,
    current: Snapshot | None = None,
    *,
    creator: str | None = "postgres",
    created: set[ObjectId] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """SQL that would remove these differences: (statements, what it did, what it could not).

    Objects missing after the rollback are recreated from `before`, objects left behind are
    dropped, and changed functions, views, policies, triggers, columns, comments and privileges
    are put back. Dependents first dropped, then parents; parents first created, then dependents.
    `created`: what the rest of the rollback already recreates (not written twice).
    """
    gen = Writer(before, current, creator)
    if created is not None:
        gen.created = created
    drops: list[tuple[int, list[str]]] = []
    creates: list[tuple[int, list[str]]] = []
    done: list[str] = []
    failed: list[str] = []
    differences = split_replaced(differences, before, current)
    renames = find_renames(differences, before, current)
    differences = [d for d in differences if not _moved(d, renames)]
    for rename in renames:
        done.append(f"renames {rename.now.id} back to {rename.was.id}")
        changes = rename.changes()
        if changes:
            try:
                creates.append(
                    (_order(rename.was.id.kind), _restore(gen, rename.was, rename.now, changes))
                )
            except Unknown as exc:
                failed.append(f"{rename.was.id}: {exc}")
    missing_parents = {d.object for d in differences if d.removed}
    added_parents = {d.object for d in differences if d.added}
    changed = {d.object for d in differences if d.attribute != EXISTS}
    for oid in sorted({d.object for d in differences}):
        try:
            if oid in missing_parents:
                parent = _parent(before, oid)
                if parent is not None and (
                    parent in missing_parents or (parent in changed and parent.kind != "table")
                ):
                    continue  # comes back with its parent (recreated, or a view redefined)
                obj = before.objects[oid]
                if _backs(obj, missing_parents):
                    continue  # comes back with the constraint it backs
                creates.append((_order(oid.kind), gen.create(obj)))
                done.append(f"recreates {oid}")
            elif oid in added_parents:
                now = current.objects.get(oid) if current is not None else None
                if now is None:
                    raise Unknown("not in the current state")
                if now.parent is not None and (
                    now.parent in added_parents
                    or (now.parent in changed and now.parent.kind != "table")
                ):
                    continue  # goes with its parent (dropped, or a view recreated)
                if _backs(now, added_parents):
                    continue  # goes with the constraint it backs ("… requires it")
                drops.append((-_order(oid.kind), gen.drop(now)))
                done.append(f"drops {oid}")
            elif oid in changed and oid not in before.objects and current is not None:
                # A default a DO block set on a column of a new table (block_parts.py).
                now = current.objects[oid]
                creates.append((_order(oid.kind), _restore(gen, now, now, differences)))
                done.append(f"drops the default of {oid}")
            elif oid in changed:
                obj = before.objects[oid]
                now = current.objects.get(oid) if current is not None else None
                creates.append((_order(oid.kind), _restore(gen, obj, now, differences)))
                done.append(f"restores {oid}")
        except (Unknown, KeyError) as exc:
            failed.append(f"{oid}: {exc}")
    statements = [s for _, group in sorted(drops, key=lambda x: x[0]) for s in group]
    statements += [r.sql() for r in renames]
    statements += [s for _, group in sorted(creates, key=lambda x: x[0]) for s in group]
    try:
        return list(checked(statements)), done, failed
    except UnsafeOutputError as exc:
        return [], [], [*failed, str(exc)]


def _moved(d: Difference, renames: Sequence[Rename]) -> bool:
    """Taken care of by a rename back: the renamed object (or its part) under either name; not
    a new object made under the old name, which is dropped first (`split_replaced`)."""
    was = {r.was.id for r in renames}
    now = {r.now.id for r in renames}
    if d.parent in was or d.parent in now:
        return True
    if d.added:
        return d.object in now
    return d.object in (was if d.removed else was | now)


def _backs(obj: SnapshotObject, constraints: set[ObjectId]) -> bool:
    """An index that belongs to one of these (primary key, unique, exclusion) constraints."""
    name = obj.text("constraint")
    if obj.id.kind != "index" or name is None or obj.parent is None:
        return False
    return ObjectId("constraint", f"{obj.parent.name}.{name}") in constraints


def _parent(snapshot: Snapshot, oid: ObjectId) -> ObjectId | None:
    obj = snapshot.objects.get(oid)
    return obj.parent if obj is not None else None


def _order(kind: str) -> int:
    return creation_rank(kind)


# What the enum swap writes back (labels; the comment, owner and grants of the new type).
_ENUM_SWAP = frozenset({"labels", "comment", "owner", "privileges"})


def _restore(
    gen: Writer, obj: SnapshotObject, now: SnapshotObject | None, diffs: Sequence[Difference]
) -> list[str]:
    attrs = {d.attribute for d in diffs if d.object == obj.id}
    kind = obj.id.kind
    if kind == "column":
        ref = ObjectRef(
            "column",
            str(obj.extra_text("table")),
            obj.extra_text("schema"),
            column=obj.extra_text("column"),
        )
        out: list[str] = []
        if "type" in attrs or "collation" in attrs:
            out += restore_column(gen, ref, "type")
        elif "default" in attrs:
            out += restore_column(gen, ref, "default")
        if "not null" in attrs:
            out += restore_column(gen, ref, "null")
        if "comment" in attrs:
            out += gen.comment(obj, now)
        if "privileges" in attrs and obj.parent is not None:
            col = obj.id.name[len(obj.parent.name) + 1 :]
            out += gen.privileges(obj, now, column=col)
        if attrs - {"type", "collation", "default", "not null", "comment", "privileges"}:
            raise Unknown(f"cannot restore {', '.join(sorted(attrs))} of a column")
        return out
    if attrs <= {"comment"}:
        return gen.comment(obj, now)
    if attrs <= {"privileges", "owner", "comment"} and kind in _GRANT_KEYWORD:
        return gen.decorate(obj, now)
    if kind in ("table",) and attrs <= {"row security", "force row security", "replica identity"}:
        out = replica_identity(gen, obj) if "replica identity" in attrs else []
        if "row security" in attrs:
            verb = "ENABLE" if obj.get("row security") else "DISABLE"
            out.append(f"ALTER TABLE {obj.id.name} {verb} ROW LEVEL SECURITY")
        if "force row security" in attrs:
            verb = "FORCE" if obj.get("force row security") else "NO FORCE"
            out.append(f"ALTER TABLE {obj.id.name} {verb} ROW LEVEL SECURITY")
        return out
    if kind == "extension" and attrs == {"schema"}:  # ALTER EXTENSION … SET SCHEMA undone
        schema = Identifier(str(obj.text("schema")))
        return [sql("ALTER EXTENSION {} SET SCHEMA {}", SQL(obj.id.name), schema)]
    if kind == "type" and obj.text("variety") == "enum" and "labels" in attrs <= _ENUM_SWAP:
        return enum_as_before(gen, obj)  # values added: a CREATE would find the type there
    return gen.create(obj, current=now)
