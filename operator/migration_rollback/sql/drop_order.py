"""The order of a rollback's drops: each object dropped only after what still needs it.

A DROP of an object another one needs fails without CASCADE, halfway through the rollback. What
ties two objects is often a part of the dependent that the rollback removes first: a foreign key
(`ALTER TABLE ... DROP CONSTRAINT`), a column of the dropped type (`DROP COLUMN`). pg_dump,
`supabase db dump` and ORMs (drizzle, prisma) write every foreign key as an ALTER TABLE of its
own after the tables, and the generator drops those constraints before the tables, which may
then go in any order: each tie here names the parts that carry it, and is cut when the rollback
removes one of them before the drop of what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pglast.enums.parsenodes import AlterTableType, ConstrType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.classify import classify
from migration_rollback.sql.model import Script, Statement
from migration_rollback.sql.names import DEFAULT_SCHEMA, choose_name, split_qualified, strings
from migration_rollback.sql.touched import walk

# A part of a table the rollback may remove first: ("constraint" | "column", lower-case name).
Part = tuple[str, str]


@dataclass(frozen=True, slots=True, order=True)
class Tie:
    """The dependent cannot outlive `needed` while one of its `carriers` is there (none: for
    as long as the dependent exists)."""

    needed: str
    carriers: tuple[Part, ...] = ()


def order_findings_data(
    forward: Script, rollback: Script
) -> list[tuple[Statement, Statement, str, str]]:
    """(drop of the needed object, drop of its dependent, needed, dependent) for each drop
    that comes before the drop of something that still needs it, in a stable order."""
    dropped_at: dict[str, Statement] = {}
    for st in rollback.statements:
        key = _dropped_key(st)
        if key:
            dropped_at.setdefault(key, st)
    removed = _removed_parts(rollback)
    out: list[tuple[Statement, Statement, str, str]] = []
    for dependent, ties in _ties(forward, dropped_at).items():
        for needed in sorted(
            {t.needed for t in ties if _breaks(t, dependent, dropped_at, removed)}
        ):
            out.append((dropped_at[needed], dropped_at[dependent], needed, dependent))
    return out


def _breaks(
    tie: Tie,
    dependent: str,
    dropped_at: dict[str, Statement],
    removed: dict[tuple[str, Part], int],
) -> bool:
    """The needed object is dropped while the dependent still holds the tie."""
    needed = dropped_at.get(tie.needed)
    later = dropped_at.get(dependent)
    if needed is None or later is None or needed.index >= later.index:
        return False
    cut = (removed.get((dependent, part)) for part in tie.carriers)
    return not any(at is not None and at < needed.index for at in cut)


def dropped_name(st: Statement) -> str | None:
    """The lower-case name of the first object a DROP statement removes (None: not a DROP)."""
    if isinstance(st.node, ast.DropStmt):
        targets = classify(st).targets
        return targets[0].name.lower() if targets else None
    return None


def _dropped_key(st: Statement) -> str | None:
    """`schema.name` (lower case) of the first object a DROP statement removes: a view and a
    table of one name in two schemas are two objects (grida: `referrer` needs
    `public.customer`, not the view `grida_west_referral.customer`)."""
    if isinstance(st.node, ast.DropStmt):
        targets = classify(st).targets
        return _key(targets[0].schema, targets[0].name) if targets else None
    return None


def _key(schema: str | None, name: str) -> str:
    return f"{schema or DEFAULT_SCHEMA}.{name}".lower()


def _rel_key(rv: Any) -> str:
    return _key(rv.schemaname, rv.relname)


def _names_key(names: list[str]) -> str:
    """A dotted name list's key (a database prefix is ignored)."""
    return _key(*split_qualified(names, DEFAULT_SCHEMA))


def _removed_parts(rollback: Script) -> dict[tuple[str, Part], int]:
    """(table, part) -> the index of the first statement that removes it."""
    removed: dict[tuple[str, Part], int] = {}
    for st in rollback.statements:
        if not isinstance(st.node, ast.AlterTableStmt):
            continue
        table = _rel_key(st.node.relation)
        for cmd in st.node.cmds or ():
            what = _REMOVES.get(getattr(cmd, "subtype", None))
            if what is not None and cmd.name:
                removed.setdefault((table, (what, cmd.name.lower())), st.index)
    return removed


_REMOVES: dict[Any, str] = {
    AlterTableType.AT_DropConstraint: "constraint",
    AlterTableType.AT_DropColumn: "column",
}


def _ties(forward: Script, dropped: Container[str]) -> dict[str, set[Tie]]:
    """name -> what it cannot outlive, for the names in `dropped` (what the others need is
    never asked: no walk of their trees)."""
    deps: dict[str, set[Tie]] = {}
    for st in forward.statements:
        node = st.node
        getter = _OWN_NAME.get(type(node))
        own = None if getter is None else getter(node)
        if own is None or own not in dropped:
            continue
        reader = _READERS.get(type(node))
        ties = reader(node, own, dropped) if reader is not None else ()
        # A tie to what the rollback leaves never breaks (`_breaks`): not kept.
        deps.setdefault(own, set()).update(
            t for t in ties if t.needed != own and t.needed in dropped
        )
    return deps


def _table_ties(node: Any, own: str, dropped: Container[str]) -> Iterator[Tie]:
    """A table's (or ALTER TABLE's) foreign keys, and the types of the columns CREATE gives it,
    to what the rollback drops."""
    elements = node.tableElts if isinstance(node, ast.CreateStmt) else node.cmds
    for part, column in _table_parts(elements):
        if isinstance(part, ast.Constraint) and part.contype == ConstrType.CONSTR_FOREIGN:
            if _rel_key(part.pktable) in dropped:
                yield _foreign_key(part, node.relation.relname, column)
        elif isinstance(part, ast.ColumnDef) and isinstance(node, ast.CreateStmt):
            names = strings(part.typeName.names) if part.typeName is not None else []
            column_part = ("column", part.colname.lower())
            if names and _names_key(names) in dropped:
                yield Tie(_names_key(names), (column_part,))


def _foreign_key(constraint: Any, table: str, column: str | None) -> Tie:
    """A foreign key's tie: carried by the constraint (its name, or the one PostgreSQL gives
    it) and by each of its columns."""
    columns = [column] if column else strings(constraint.fk_attrs or ())
    carriers = [("column", c.lower()) for c in columns]
    name = constraint.conname or (choose_name(table, columns, "fkey") if columns else None)
    if name:
        carriers.append(("constraint", name.lower()))
    return Tie(_rel_key(constraint.pktable), tuple(carriers))


def _table_parts(elements: Iterable[Any] | None) -> Iterator[tuple[Any, str | None]]:
    """The column definitions and constraints of a table's elements or ALTER TABLE commands,
    where the grammar puts them, each with the column it is declared on (None: table level):
    walking every default and CHECK expression below them too made this most of `validate`'s
    own work."""
    for element in elements or ():
        part = element.def_ if isinstance(element, ast.AlterTableCmd) else element
        yield part, None
        if isinstance(part, ast.ColumnDef):
            yield from ((c, part.colname) for c in part.constraints or ())


def _query_ties(node: Any, _own: str, _dropped: Container[str]) -> Iterator[Tie]:
    query = node.query
    return (Tie(_rel_key(n)) for n in walk(query) if isinstance(n, ast.RangeVar))


def _trigger_ties(node: Any, _own: str, _dropped: Container[str]) -> Iterable[Tie]:
    return (Tie(_names_key(strings(node.funcname))),)


def _policy_ties(node: Any, _own: str, _dropped: Container[str]) -> Iterator[Tie]:
    calls = (n for n in walk((node.qual, node.with_check)) if isinstance(n, ast.FuncCall))
    return (Tie(_names_key(strings(n.funcname))) for n in calls)


# The key of what a statement creates or changes (a trigger or policy: in its table's schema,
# as a DROP of it is classified), and what ties it, per class.
_OWN_NAME: dict[type, Callable[[Any], str]] = {
    ast.CreateStmt: lambda n: _rel_key(n.relation),
    ast.ViewStmt: lambda n: _rel_key(n.view),
    ast.CreateTableAsStmt: lambda n: _rel_key(n.into.rel),
    ast.CreateTrigStmt: lambda n: _key(n.relation.schemaname, n.trigname),
    ast.CreatePolicyStmt: lambda n: _key(n.table.schemaname, n.policy_name),
    ast.AlterTableStmt: lambda n: _rel_key(n.relation),
}
_READERS: dict[type, Callable[[Any, str, Container[str]], Iterable[Tie]]] = {
    ast.CreateStmt: _table_ties,
    ast.AlterTableStmt: _table_ties,
    ast.ViewStmt: _query_ties,
    ast.CreateTableAsStmt: _query_ties,
    ast.CreateTrigStmt: _trigger_ties,
    ast.CreatePolicyStmt: _policy_ties,
}
