"""Tables recreated from the before-state: their columns, owned sequences and everything a table
made anew gets back (constraints, indexes, RLS, policies, triggers, rules, grants, comments,
publications); foreign tables (their definition only: the rows live on the server); a table's
replica identity.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migration_rollback.sql.compose import EMPTY, SQL, Identifier, sql
from migration_rollback.verify.snapshot import SnapshotObject
from migration_rollback.verify.stateful.columns import column_definition, foreign_options
from migration_rollback.verify.stateful.lookups import Unknown
from migration_rollback.verify.stateful.renamed import members

if TYPE_CHECKING:
    from migration_rollback.verify.stateful.ddl import Writer


def replica_identity(gen: Writer, table: SnapshotObject) -> list[str]:
    """The table's replica identity as it was (DEFAULT, FULL, NOTHING, USING INDEX)."""
    identity = table.text("replica identity")
    if identity is None:
        return []
    if identity != "index":
        return [f"ALTER TABLE {table.id.name} REPLICA IDENTITY {identity.upper()}"]
    for index in gen.before.children(table.id, "index"):
        if index.get("replica identity"):
            own = Identifier(str(index.extra_text("name")))
            template = "ALTER TABLE {} REPLICA IDENTITY USING INDEX {}"
            return [sql(template, SQL(table.id.name), own)]
    raise Unknown(f"the replica identity index of {table.id} is not known")


def table(gen: Writer, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
    gen.data_loss.append(f"{obj.id}: recreated empty (its rows were dropped with it)")
    name = obj.id.name
    columns = sorted(
        gen.before.children(obj.id, "column"), key=lambda c: int(str(c.get("position") or 0))
    )
    owned = [
        s
        for s in gen.before.of_kind("sequence")
        if str(s.text("owned by") or "").startswith(name + ".") and not s.extra.get("identity")
    ]
    out: list[str] = []
    for seq in owned:
        out += gen.sequence(seq, None)
    persistence = {"unlogged": "UNLOGGED "}.get(str(obj.text("persistence")), "")
    partition_of = obj.text("partition of")
    if partition_of:
        parent, _, bound = partition_of.partition(" ")
        out.append(f"CREATE {persistence}TABLE {name} PARTITION OF {parent} {bound}")
    else:
        body = ",\n  ".join(column_definition(gen, c) for c in columns)
        statement = f"CREATE {persistence}TABLE {name} (\n  {body}\n)"
        if obj.strings("inherits"):
            statement += f" INHERITS ({', '.join(obj.strings('inherits'))})"
        if obj.text("partitioned by"):
            statement += f" PARTITION BY {obj.text('partitioned by')}"
        if obj.strings("options"):
            statement += f" WITH ({', '.join(obj.strings('options'))})"
        out.append(statement)
    for seq in owned:
        out.append(f"ALTER SEQUENCE {seq.id.name} OWNED BY {seq.text('owned by')}")
    return out + table_parts(gen, obj, columns)


def foreign_table(gen: Writer, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
    """Its definition only: its rows live on the server."""
    server = obj.extra_text("server")
    if server is None:
        raise Unknown(f"the server of {obj.id} is not known")
    columns = sorted(
        members(gen.before, obj, "column"), key=lambda c: int(str(c.get("position") or 0))
    )
    body = SQL(",\n  ").join(SQL(column_definition(gen, c)) for c in columns)
    options = obj.extra.get("foreign options")
    out = [
        sql(
            "CREATE FOREIGN TABLE {} (\n  {}\n) SERVER {}{}",
            SQL(obj.id.name),
            body,
            SQL(server),
            SQL(" " + foreign_options(options)) if options else EMPTY,
        )
    ]
    for constraint in members(gen.before, obj, "constraint"):
        out += gen.constraint(constraint, None)
    for trigger in members(gen.before, obj, "trigger"):
        out += gen.trigger(trigger, None)
    out += gen.decorate(obj, None)
    for column in columns:
        out += gen.comment(column)
    return out


def table_parts(gen: Writer, obj: SnapshotObject, columns: list[SnapshotObject]) -> list[str]:
    """What a table has beside its columns: constraints, indexes, RLS, policies, triggers,
    rules, owner, grants, comments, publications (a table made anew gets them back)."""
    name = obj.id.name
    out: list[str] = []
    constraints = gen.before.children(obj.id, "constraint")
    constraints.sort(key=lambda c: c.get("type") == "foreign key")
    for constraint in constraints:
        out += gen.constraint(constraint, None)
    for index in gen.before.children(obj.id, "index"):
        out += gen.index(index, None)
    if obj.get("row security"):
        out.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    if obj.get("force row security"):
        out.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
    if obj.text("replica identity") != "default":
        out += replica_identity(gen, obj)
    for policy in gen.before.children(obj.id, "policy"):
        out += gen.policy(policy, None)
    for trigger in gen.before.children(obj.id, "trigger"):
        out += gen.trigger(trigger, None)
    for rule in gen.before.children(obj.id, "rule"):
        out += gen.rule(rule, None)
    out += gen.decorate(obj, None)
    for column in columns:
        out += gen.comment(column)
        if "privileges" in column.attrs:
            out += gen.privileges(column, None, column=column.id.name[len(name) + 1 :])
    for member in gen.before.of_kind("publication table"):
        if member.extra_text("table") == name:
            out += gen.publication_table(member, None)
    return out
