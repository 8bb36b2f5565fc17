"""Decide, without a database, what the runner will do with each statement of the rollback.

The rollback SQL is not run verbatim. A `DROP TABLE` becomes a move into the archive schema (the
data stays recoverable) and a dropped column is first copied out, unless `--purge`; statements
that PostgreSQL refuses inside a transaction (`... CONCURRENTLY`, `VACUUM`) are deferred until
after COMMIT and made idempotent; the file's own `BEGIN`/`COMMIT` are dropped because the
runner owns the transaction. What is left destroying data is what `--allow-data-loss` gates.
A step undoing an IF NOT EXISTS that `apply` saw change nothing is kept apart, not run
(`keeping`).
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pglast import ast
from pglast.enums.parsenodes import AlterTableType, DropBehavior, ObjectType

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.rollback_file import RollbackSource
from migration_rollback.sql import Classification, Statement, classify, kinds
from migration_rollback.sql.names import deparse
from migration_rollback.sql.session_state import own_wrapper, refusals

QName = tuple[str, ...]
"""A name as written in the SQL: `("t",)` or `("s", "t")`; resolved by the server at run time."""


class Action(enum.StrEnum):
    EXECUTE = "execute"
    ARCHIVE_TABLES = "archive-tables"
    COPY_COLUMNS = "copy-columns"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class DropTarget:
    """Something a statement removes, checked again before COMMIT ("is it really gone?")."""

    kind: str  # "relation", "schema" or "column"
    name: QName
    column: str | None = None

    def describe(self) -> str:
        base = ".".join(self.name)
        return f"{self.kind} {base}.{self.column}" if self.column else f"{self.kind} {base}"


@dataclass(frozen=True, slots=True)
class PlannedStatement:
    """One statement of the rollback and how the runner will carry it out."""

    number: int
    version: str
    statement: Statement
    classification: Classification
    action: Action
    sql: str
    tables: tuple[QName, ...] = ()
    columns: tuple[tuple[QName, str], ...] = ()
    missing_ok: bool = False
    cascade: bool = False
    drops: tuple[DropTarget, ...] = ()
    destroys_data: bool = False
    replaces_invalid_index: QName | None = None

    @property
    def location(self) -> str:
        return str(self.statement.location)

    @property
    def summary(self) -> str:
        return self.statement.first_line


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the run will do, in order: the transaction, then the deferred statements."""

    versions: tuple[str, ...]
    statements: tuple[PlannedStatement, ...]
    deferred: tuple[PlannedStatement, ...]
    skipped: tuple[str, ...]
    # Not run: each undoes an IF NOT EXISTS that met an existing object (restore.keeps).
    kept: tuple[PlannedStatement, ...] = ()

    @property
    def all(self) -> tuple[PlannedStatement, ...]:
        return self.statements + self.deferred

    @property
    def destructive(self) -> tuple[PlannedStatement, ...]:
        """Statements that lose data the archive does not keep: these need --allow-data-loss."""
        return tuple(p for p in self.all if p.destroys_data)


def names_of(objects: Sequence[Any] | None) -> list[QName]:
    """The dotted names of a DropStmt's objects."""
    found: list[QName] = []
    for obj in objects or ():
        if isinstance(obj, ast.String):
            found.append((str(obj.sval),))
        elif isinstance(obj, Sequence):
            found.append(tuple(str(p.sval) for p in obj if isinstance(p, ast.String)))
    return found


def range_var_name(rv: ast.RangeVar | None) -> QName:
    if rv is None or not rv.relname:
        return ()
    return (str(rv.schemaname), str(rv.relname)) if rv.schemaname else (str(rv.relname),)


def _transaction_control(source: RollbackSource, stmt: Statement, position: int) -> bool:
    """True for the file's own BEGIN/COMMIT (dropped); any other transaction control is one
    of session_state's refusals (check_session_state, before anything runs)."""
    statements = source.script.statements
    if own_wrapper(statements, position):
        return True
    if isinstance(stmt.node, ast.TransactionStmt):  # refused before: kept as a backstop
        raise PreconditionError(f"{stmt.location}: {stmt.first_line!r}: the runner owns the "
                                "transaction; a rollback may only wrap itself in one BEGIN ... "
                                "COMMIT")  # fmt: skip
    return False


def _drop_targets(node: Any) -> tuple[DropTarget, ...]:
    if isinstance(node, ast.DropStmt):
        if node.removeType in kinds.RELATION_TYPES:
            return tuple(DropTarget("relation", n) for n in names_of(node.objects))
        if node.removeType == ObjectType.OBJECT_SCHEMA:
            return tuple(DropTarget("schema", n) for n in names_of(node.objects))
    # ALTER TYPE ... DROP ATTRIBUTE parses as an ALTER TABLE's DROP COLUMN on the composite
    # type's pg_class row: no table, no rows of its own to copy out (its values live in the
    # columns of that type, which stay, each losing the attribute: see classify).
    if isinstance(node, ast.AlterTableStmt) and node.objtype != ObjectType.OBJECT_TYPE:
        table = range_var_name(node.relation)
        if not table:
            return ()
        return tuple(
            DropTarget("column", table, cmd.name)
            for cmd in node.cmds or ()
            if cmd.subtype == AlterTableType.AT_DropColumn
        )
    return ()


def idempotent_form(node: Any) -> tuple[str, QName | None]:
    """SQL for a deferred statement that is safe to run again, and an index to check first."""
    node = copy.deepcopy(node)
    invalid_index: QName | None = None
    if isinstance(node, ast.DropStmt):
        node.missing_ok = True
    elif isinstance(node, ast.IndexStmt) and node.idxname:
        # A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would keep.
        node.if_not_exists = True
        schema = node.relation.schemaname if node.relation is not None else None
        invalid_index = (str(schema), str(node.idxname)) if schema else (str(node.idxname),)
    elif isinstance(node, ast.AlterEnumStmt) and node.newVal and not node.oldVal:
        node.skipIfNewValExists = True
    return deparse(node), invalid_index


def plan_statement(number: int, version: str, stmt: Statement, purge: bool) -> PlannedStatement:
    """How one (non transaction-control) statement will be carried out."""
    cls = classify(stmt)
    node = stmt.node
    drops = _drop_targets(node)
    base = PlannedStatement(
        number=number,
        version=version,
        statement=stmt,
        classification=cls,
        action=Action.EXECUTE,
        sql=stmt.text,
        drops=drops,
        destroys_data=cls.destroys_data,
    )
    if not cls.transactional:
        sql, invalid_index = idempotent_form(node)
        return replace(base, action=Action.DEFERRED, sql=sql, replaces_invalid_index=invalid_index)
    if purge:
        return base
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        return replace(
            base,
            action=Action.ARCHIVE_TABLES,
            tables=tuple(names_of(node.objects)),
            missing_ok=bool(node.missing_ok),
            cascade=node.behavior == DropBehavior.DROP_CASCADE,
            destroys_data=False,
        )
    columns = tuple((d.name, d.column) for d in drops if d.kind == "column" and d.column)
    if columns:
        # classify() marks an ALTER TABLE destructive only for DROP COLUMN, which we copy out.
        return replace(base, action=Action.COPY_COLUMNS, columns=columns, destroys_data=False)
    return base


def check_session_state(sources: Sequence[RollbackSource]) -> None:
    """Refuse, naming each one, the statements that would change the runner's session."""
    refused = [str(r) for source in sources for r in refusals(source.script.statements)]
    if refused:
        raise PreconditionError(
            "the rollback changes the session the runner set up, so nothing was run: "
            + "; ".join(refused)
        )


def build_plan(sources: Sequence[RollbackSource], *, purge: bool) -> Plan:
    """The run's plan; `sources` are already in the order they must run (newest first)."""
    check_session_state(sources)
    planned: list[PlannedStatement] = []
    skipped: list[str] = []
    for source in sources:
        for position, stmt in enumerate(source.script.statements):
            if _transaction_control(source, stmt, position):
                skipped.append(f"{stmt.location}: {stmt.first_line} (the runner's transaction)")
                continue
            planned.append(plan_statement(len(planned) + 1, source.migration.version, stmt, purge))
    return Plan(
        versions=tuple(s.migration.version for s in sources),
        statements=tuple(p for p in planned if p.action is not Action.DEFERRED),
        deferred=tuple(p for p in planned if p.action is Action.DEFERRED),
        skipped=tuple(skipped),
    )


def keeping(plan: Plan, kept: Callable[[PlannedStatement], bool]) -> Plan:
    """The plan without the statements `kept` says are not run, listed apart: they neither
    run, nor count for the data-loss gate, the archive or the checks before COMMIT."""
    return replace(
        plan,
        statements=tuple(p for p in plan.statements if not kept(p)),
        deferred=tuple(p for p in plan.deferred if not kept(p)),
        kept=tuple(sorted((p for p in plan.all if kept(p)), key=lambda p: p.number)),
    )
