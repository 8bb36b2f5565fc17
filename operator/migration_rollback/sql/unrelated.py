"""Rollback statements that destroy what the migration never made: they undo nothing of it.

`validate --verify` compares catalogs, so a hand-added `TRUNCATE` of a table that existed
before the migration, a `DELETE` or `UPDATE` of its rows, a `DROP` of an older object, a
column type change or a sequence reset passed as "verified": the data they destroy is not in a
catalog. Here each such statement must name something the forward migration created or changed,
or it is an error (safe by default) unless the file carries `ALLOW_UNRELATED_MARK` (explicit,
reviewed and pinned with the file). Names are compared bare and case-folded, as `validate`'s
other checks do: a same-named object in another schema passes (the lenient side).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql import effects
from migration_rollback.sql._ast import ast
from migration_rollback.sql.classify import classify
from migration_rollback.sql.created import object_key_for_index
from migration_rollback.sql.do_drops import block_trees
from migration_rollback.sql.model import Script, Statement
from migration_rollback.sql.names import DEFAULT_SCHEMA, strings
from migration_rollback.sql.platform_calls import EFFECTS, Effect
from migration_rollback.sql.touched import touched_names

ALLOW_UNRELATED_MARK = "-- migration-rollback: allow-unrelated"

_ROW_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.CopyStmt)
_ROW_DESTROYS = (ast.TruncateStmt, ast.DeleteStmt, ast.UpdateStmt, ast.MergeStmt)
_VALUE_REWRITES = {AT.AT_DropColumn, AT.AT_AlterColumnType}
# The platform tables whose rows a known call writes (platform_calls.py undoes them there).
_PLATFORM_ROWS: dict[Effect | None, tuple[str, ...]] = {
    Effect.CREATES_SECRET: ("secrets",),
    Effect.SCHEDULES_JOB: ("job",),
}


@dataclass
class Subjects:
    """What a forward migration made or changed, as bare lower-case names."""

    created: set[str] = field(default_factory=set)  # tables it created: anything goes
    rows: set[str] = field(default_factory=set)  # tables it wrote rows of: a DELETE ... WHERE
    values: set[str] = field(default_factory=set)  # ... or rewrote values of: an UPDATE
    names: set[str] = field(default_factory=set)  # every object and column it made or changed
    # Unnamed indexes: the name PostgreSQL derives, which gets a counter (`t_a_idx1`) when a
    # relation holds it already (names.choose_name); any of them is the index it made.
    derived: set[str] = field(default_factory=set)

    def made(self, name: str) -> bool:
        name = name.lower()
        return name in self.names or name.rstrip("0123456789") in self.derived


def _relnames(node: Any) -> list[str]:
    rels = getattr(node, "relations", None) or (getattr(node, "relation", None),)
    return [str(r.relname).lower() for r in rels if r is not None]


def _forward_table(node: Any, found: Subjects) -> None:
    """CREATE TABLE / AS: the table, its rows, its columns and their implicit sequences."""
    rel = node.relation if isinstance(node, ast.CreateStmt) else node.into.rel
    table = str(rel.relname).lower()
    _created(table, found)
    for element in getattr(node, "tableElts", None) or ():
        if isinstance(element, ast.ColumnDef):
            _add_column(table, str(element.colname), found)


def _created(table: str, found: Subjects) -> None:
    for kept in (found.created, found.rows, found.values, found.names):
        kept.add(table)


def _add_column(table: str, column: str, found: Subjects) -> None:
    # A serial or identity column's sequence is named `<table>_<column>_seq` by the server.
    found.names.update({column.lower(), f"{table}_{column}_seq".lower()})


def _forward_alter(node: Any, found: Subjects) -> None:
    table = str(node.relation.relname).lower()
    found.names.add(table)
    for cmd in node.cmds or ():
        if cmd.subtype in _VALUE_REWRITES:
            found.values.add(table)
        if cmd.name:
            found.names.add(str(cmd.name).lower())
        if isinstance(cmd.def_, ast.ColumnDef):
            _add_column(table, str(cmd.def_.colname), found)
        elif isinstance(cmd.def_, ast.Constraint) and cmd.def_.conname:
            found.names.add(str(cmd.def_.conname).lower())


def _named(name: Callable[[Any], str]) -> Callable[[Any, Subjects], None]:
    """A statement whose subject is the one object it names."""
    return lambda node, found: found.names.add(name(node).lower())


def _forward_index(node: Any, found: Subjects) -> None:
    name = object_key_for_index(node, DEFAULT_SCHEMA).name.lower()
    (found.names if node.idxname else found.derived).add(name)


def _forward_rows(node: Any, found: Subjects) -> None:
    for kept in (found.rows, found.values, found.names):
        kept.update(_relnames(node))


def _forward_other(node: Any, found: Subjects) -> None:
    """The rest name their own subject (a function, a type, a server...): all of their names."""
    found.names.update(touched_names(node))
    found.names.update(v.lower() for v in map(node.__getattribute__, node) if type(v) is str)


def _forward_block(node: Any, found: Subjects) -> None:
    """A DO block: what its statements make, change or drop is its subject too (the undo of
    its CREATE INDEX is a DROP INDEX; of its DROP, may make the object again)."""
    _forward_other(node, found)
    for inner in block_trees(node):
        _forward_one(inner, found)


def _forward_one(node: Any, found: Subjects) -> None:
    """Add what one forward statement makes or changes (its subject, not what it reads)."""
    (_FORWARD.get(type(node)) or _forward_other)(node, found)


def _forward_select(node: Any, found: Subjects) -> None:
    """SELECT ... INTO makes a table; setval moves a sequence; a platform call writes rows
    (a vault secret, a cron job) that the generated inverse deletes."""
    if node.intoClause is not None:
        _created(str(node.intoClause.rel.relname).lower(), found)
    found.names.update(_sequence_calls(node))
    for call in effects.calls(node):
        found.rows.update(_PLATFORM_ROWS.get(EFFECTS.get(call), ()))
        found.values.update(_PLATFORM_ROWS.get(EFFECTS.get(call), ()))


_FORWARD: dict[type, Callable[[Any, Subjects], None]] = {
    ast.CreateStmt: _forward_table,
    ast.CreateTableAsStmt: _forward_table,
    ast.AlterTableStmt: _forward_alter,
    ast.ViewStmt: _named(lambda node: str(node.view.relname)),
    ast.IndexStmt: lambda node, found: _forward_index(node, found),
    ast.CreateTrigStmt: _named(lambda node: str(node.trigname)),
    ast.CreatePolicyStmt: _named(lambda node: str(node.policy_name)),
    ast.AlterPolicyStmt: _named(lambda node: str(node.policy_name)),
    ast.SelectStmt: _forward_select,
    ast.DoStmt: _forward_block,
    **dict.fromkeys(_ROW_WRITES, _forward_rows),
}


def forward_subjects(forward: Script) -> Subjects:
    found = Subjects()
    for st in forward.statements:
        _forward_one(st.node, found)
    return found


def _sequence_calls(node: Any) -> Iterator[str]:
    """The sequences a `SELECT setval('name', ...)` sets, when named by a constant."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple | list):
            stack.extend(n)
        elif isinstance(n, ast.Node):
            if isinstance(n, ast.FuncCall) and strings(n.funcname)[-1:] == ["setval"]:
                first = (n.args or (None,))[0]
                value = getattr(getattr(first, "val", None), "sval", None)
                if isinstance(value, str):
                    yield value.rsplit(".", 1)[-1].strip('"').lower()
            stack.extend(getattr(n, attr) for attr in n)


# --- the rollback side: what each destroying statement aims at --------------------------------


def _row_targets(node: Any, found: Subjects) -> Iterator[str]:
    """TRUNCATE or an unqualified DELETE: only of a table the migration created; a DELETE ...
    WHERE also of one it wrote rows of; an UPDATE also of one whose values it rewrote."""
    if isinstance(node, ast.UpdateStmt):
        allowed = found.values
    elif isinstance(node, ast.MergeStmt) or getattr(node, "whereClause", None) is not None:
        allowed = found.rows
    else:
        allowed = found.created
    for table in _relnames(node):
        if table not in allowed:
            yield f"the rows of table {table}"


def _drop_targets(st: Statement, found: Subjects) -> Iterator[str]:
    for target in classify(st).targets:
        if not found.made(target.name):
            yield target.describe()


def _alter_targets(node: Any, found: Subjects) -> Iterator[str]:
    table = str(node.relation.relname).lower()
    if table in found.created:
        return
    for cmd in node.cmds or ():
        if cmd.subtype in _VALUE_REWRITES and not _follows(cmd, found):
            verb = "the values of" if cmd.subtype == AT.AT_AlterColumnType else ""
            yield f"{verb} column {table}.{cmd.name}".strip()


def _follows(cmd: Any, found: Subjects) -> bool:
    """The column is the migration's, or its new type is one the migration changed (an enum
    value removed: the type is made anew and its columns moved to it)."""
    type_name = getattr(cmd.def_, "typeName", None)
    names = strings(type_name.names) if type_name is not None else []
    return str(cmd.name).lower() in found.names or any(n.lower() in found.names for n in names)


def _sequence_targets(node: Any, found: Subjects) -> Iterator[str]:
    if isinstance(node, ast.AlterSeqStmt):
        restarts = any(getattr(o, "defname", "") == "restart" for o in node.options or ())
        names = [str(node.sequence.relname).lower()] if restarts else []
    else:
        names = list(_sequence_calls(node))
    for name in names:
        if name not in found.names:
            yield f"the position of sequence {name}"


_TARGETS: dict[type, Callable[[Statement, Subjects], Iterator[str]]] = {
    **{kind: lambda st, found: _row_targets(st.node, found) for kind in _ROW_DESTROYS},
    ast.DropStmt: _drop_targets,
    ast.AlterTableStmt: lambda st, found: _alter_targets(st.node, found),
    ast.AlterSeqStmt: lambda st, found: _sequence_targets(st.node, found),
    ast.SelectStmt: lambda st, found: _sequence_targets(st.node, found),
    ast.DropdbStmt: lambda st, found: iter(("a whole database",)),
}


def unrelated_targets(st: Statement, found: Subjects) -> list[str]:
    """What `st` destroys that the forward migration (or the rollback before it: a type renamed
    aside to be dropped) neither made nor changed. Call in the rollback's order."""
    hidden = list(_hidden_writes(st.node, found))
    rule = _TARGETS.get(type(st.node))
    if rule is None:
        _learn(st.node, found)
        return hidden
    return [*hidden, *rule(st, found)]


def _learn(node: Any, found: Subjects) -> None:
    """What a rollback statement makes is its own to drop later; rows it writes are still the
    older table's, and a name something older is renamed to is still that older thing."""
    if isinstance(node, (*_ROW_WRITES, ast.SelectStmt)):
        return
    if isinstance(node, ast.RenameStmt):
        new = str(node.newname).lower()
        old = set(touched_names(node)) | {n.lower() for n in _object_strings(node)}
        if (old - {new}) & found.names:
            found.names.add(new)
        return
    _forward_one(node, found)


def _object_strings(node: Any) -> list[str]:
    """The last name of a RenameStmt's `object` (a type's, a function's...), when it has one."""
    obj = getattr(node, "object", None)
    if isinstance(obj, tuple):
        return strings(obj)[-1:]
    names = getattr(obj, "names", None) or getattr(obj, "objname", None)
    return strings(names)[-1:] if names else []


def _hidden_writes(node: Any, found: Subjects) -> Iterator[str]:
    """Row writes inside another statement: a data-modifying WITH (`WITH d AS (DELETE ...)
    SELECT ...`), and an INSERT's ON CONFLICT DO UPDATE (an UPDATE of the rows it meets)."""
    with_clause = getattr(node, "withClause", None)
    for cte in (with_clause.ctes or ()) if with_clause is not None else ():
        query = cte.ctequery
        if isinstance(query, _ROW_DESTROYS):
            yield from _row_targets(query, found)
        yield from _hidden_writes(query, found)
    conflict = getattr(node, "onConflictClause", None)
    if conflict is not None and conflict.targetList:
        for table in _relnames(node):
            if table not in found.values:
                yield f"the rows of table {table} (ON CONFLICT DO UPDATE)"
