"""What a forward statement is about to change, read from its parse tree (no database here).

`apply` keeps, before each statement that changes or destroys data, what that statement is
about to change. This module decides *what* to keep for each statement, from pglast's parse tree
only: the target table as written (so the server resolves it exactly as it resolves the
statement), the statement's own WHERE / FROM / USING clauses deparsed back to SQL, and the
columns it sets, drops or converts. Statements whose prior state cannot be captured exactly
(a WITH clause that itself writes, `WHERE CURRENT OF`, an `ON CONFLICT DO UPDATE` whose conflicting
rows cannot be told before it runs, `MERGE ... WHEN NOT MATCHED`, `TRUNCATE ... CASCADE`, `DROP
SCHEMA`) get a `manual` reason instead: never a guess. A DO block's UPDATE and DELETE statements
are kept before the whole block when their rows are known then (capture_blocks.py).
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, replace
from typing import Any

from pglast import parse_sql
from pglast.enums.nodes import CmdType, OnConflictAction
from pglast.enums.parsenodes import AlterTableType, DropBehavior, ObjectType
from pglast.enums.primnodes import MergeMatchKind

from migration_rollback.runner.capture_blocks import block_writes, diffed_tables
from migration_rollback.runner.capture_upsert_source import query_conflicts
from migration_rollback.sql import Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.function_code import QName, written_name
from migration_rollback.sql.names import deparse
from migration_rollback.sql.plpgsql_writes import rows_written


class CaptureKind(enum.StrEnum):
    UPDATE = "update"
    DELETE = "delete"
    MERGE = "merge"
    TRUNCATE = "truncate"
    INSERT = "insert"
    UPSERT = "upsert"  # INSERT ... ON CONFLICT DO UPDATE: rows updated and rows inserted
    DROP_TABLE = "drop-table"
    DROP_COLUMN = "drop-column"
    ALTER_TYPE = "alter-type"
    SEQUENCE = "sequence"
    # Definitions (capture_definition_plan.py): the object as the server gives it, or absent.
    DROP_TRIGGER = "drop-trigger"
    DROP_POLICY = "drop-policy"
    DROP_ROUTINE = "drop-routine"
    DROP_INDEX = "drop-index"
    DROP_VIEW = "drop-view"
    REPLACE_ROUTINE = "replace-routine"  # CREATE OR REPLACE FUNCTION / PROCEDURE
    REPLACE_TRIGGER = "replace-trigger"  # CREATE OR REPLACE TRIGGER
    CREATE_INDEX = "create-index"  # CREATE INDEX IF NOT EXISTS: whether it existed before
    CREATE_TABLE = "create-table"  # the same, of a table...
    CREATE_SEQUENCE = "create-sequence"
    CREATE_SCHEMA = "create-schema"
    CREATE_EXTENSION = "create-extension"
    ADD_COLUMN = "add-column"  # ALTER TABLE ... ADD COLUMN IF NOT EXISTS

    @property
    def keeps_definition(self) -> bool:
        """Kept as the object's definition (no rows, no capture table)."""
        return self in _DEFINITION_KINDS

    @property
    def only_existence(self) -> bool:
        """Kept is only whether an object created IF NOT EXISTS was there, its absence left a
        MANUAL item (capture_if_not_exists.py)."""
        return self in _EXISTENCE_KINDS

    @property
    def removes_rows(self) -> bool:
        """Restored by inserting the kept rows back (they are gone after the statement)."""
        return self in (CaptureKind.DELETE, CaptureKind.TRUNCATE, CaptureKind.DROP_TABLE)

    @property
    def needs_key(self) -> bool:
        """Rows are matched back by key; TRUNCATE and DROP TABLE keep (and re-insert) them all."""
        keyless = (CaptureKind.TRUNCATE, CaptureKind.DROP_TABLE, CaptureKind.SEQUENCE)
        return self not in keyless and not self.keeps_definition


_DEFINITION_KINDS = frozenset(
    {
        CaptureKind.DROP_TRIGGER,
        CaptureKind.DROP_POLICY,
        CaptureKind.DROP_ROUTINE,
        CaptureKind.DROP_INDEX,
        CaptureKind.DROP_VIEW,
        CaptureKind.REPLACE_ROUTINE,
        CaptureKind.REPLACE_TRIGGER,
        CaptureKind.CREATE_INDEX,
        CaptureKind.CREATE_TABLE,
        CaptureKind.CREATE_SEQUENCE,
        CaptureKind.CREATE_SCHEMA,
        CaptureKind.CREATE_EXTENSION,
        CaptureKind.ADD_COLUMN,
    }
)
_EXISTENCE_KINDS = frozenset(
    {
        CaptureKind.CREATE_TABLE,
        CaptureKind.CREATE_SEQUENCE,
        CaptureKind.CREATE_SCHEMA,
        CaptureKind.CREATE_EXTENSION,
        CaptureKind.ADD_COLUMN,
    }
)


@dataclass(frozen=True, slots=True)
class CaptureSpec:
    """What to keep before one statement touches one table."""

    kind: CaptureKind
    table: QName  # as written; resolved by the server like the statement itself
    target: str = ""  # the target as written, with its alias: `public.t AS x`
    alias: str = ""  # how the statement's clauses name the target's columns
    columns: tuple[str, ...] = ()  # set / dropped / converted columns; () = every column
    from_sql: str | None = None  # the FROM (UPDATE) / USING (DELETE, MERGE source) list
    where_sql: str | None = None  # the WHERE (or MERGE ON) condition
    with_sql: str | None = None  # a read-only WITH clause the condition may use
    manual: str | None = None  # why this cannot be captured exactly (nothing is kept then)
    # UPSERT: the conflict target's columns, and the VALUES of just those columns (the rows
    # that would conflict are the existing rows holding one of them).
    conflict: tuple[str, ...] = ()
    conflict_values: str | None = None
    # A write inside a DO block, captured before the whole block (capture_blocks.py): the
    # other tables it reads are locked against writers too, and a capture that fails (the
    # block may guard the statement with a condition) is a reason, not an error.
    in_block: bool = False
    reads: tuple[QName, ...] = ()
    # A table a DO block only UPDATEs or INSERTs into, rows known only when it runs: kept
    # whole before the block, then only the rows it changed or added (capture_diff.py).
    diff: bool = False
    # A definition kept (capture_definition_plan.py): a trigger's or policy's name (`table`
    # is then its table), or a routine's input argument types as written (None: not given).
    name: str = ""
    arguments: tuple[str, ...] | None = None


def _bare(rv: Any) -> str:
    """The relation as written, without its alias (for to_regclass)."""
    plain = copy.deepcopy(rv)
    plain.alias = None
    return deparse(plain)


def _alias(rv: Any) -> str:
    return str(rv.alias.aliasname) if rv.alias is not None else str(rv.relname)


def _with(node: Any) -> tuple[str | None, str | None]:
    """(WITH clause text, reason it cannot be replayed): only read-only CTEs can be."""
    clause = node.withClause
    if clause is None:
        return None, None
    for cte in clause.ctes or ():
        if not isinstance(cte.ctequery, ast.SelectStmt):
            return None, "its WITH clause writes data: the capture cannot replay it"
    prefix = "WITH RECURSIVE " if clause.recursive else "WITH "
    return prefix + deparse(clause), None


def _manual(kind: CaptureKind, table: QName, reason: str) -> CaptureSpec:
    return CaptureSpec(kind=kind, table=table, manual=reason)


def _from_list(items: Any) -> str | None:
    return ", ".join(deparse(item) for item in items) if items else None


def _update(node: Any) -> list[CaptureSpec]:
    columns = tuple(dict.fromkeys(str(t.name) for t in node.targetList or ()))
    return _matched_rows(CaptureKind.UPDATE, node, node.fromClause, columns)


def _delete(node: Any) -> list[CaptureSpec]:
    return _matched_rows(CaptureKind.DELETE, node, node.usingClause, ())


def _matched_rows(
    kind: CaptureKind, node: Any, joined: Any, columns: tuple[str, ...]
) -> list[CaptureSpec]:
    """UPDATE and DELETE keep the rows their own WHERE (with FROM / USING joins) matches."""
    table = written_name(node.relation)
    with_sql, why = _with(node)
    if why:
        return [_manual(kind, table, why)]
    if isinstance(node.whereClause, ast.CurrentOfExpr):
        return [_manual(kind, table, "WHERE CURRENT OF: rows depend on a cursor")]
    return [
        CaptureSpec(
            kind=kind,
            table=table,
            target=deparse(node.relation),
            alias=_alias(node.relation),
            columns=columns,
            from_sql=_from_list(joined),
            where_sql=deparse(node.whereClause) if node.whereClause is not None else None,
            with_sql=with_sql,
        )
    ]


def _merge(node: Any) -> list[CaptureSpec]:
    table = written_name(node.relation)
    with_sql, why = _with(node)
    if why:
        return [_manual(CaptureKind.MERGE, table, why)]
    for clause in node.mergeWhenClauses or ():
        if clause.matchKind != MergeMatchKind.MERGE_WHEN_MATCHED:
            # PostgreSQL 15 has no RETURNING for MERGE: the inserted keys cannot be known.
            return [
                _manual(
                    CaptureKind.MERGE,
                    table,
                    "WHEN NOT MATCHED: the rows it inserts or deletes are unknown",
                )
            ]
        if clause.commandType not in (CmdType.CMD_UPDATE, CmdType.CMD_DELETE, CmdType.CMD_NOTHING):
            return [_manual(CaptureKind.MERGE, table, "unsupported MERGE action")]
    return [
        CaptureSpec(
            kind=CaptureKind.MERGE,
            table=table,
            target=deparse(node.relation),
            alias=_alias(node.relation),
            from_sql=deparse(node.sourceRelation),
            where_sql=deparse(node.joinCondition),
            with_sql=with_sql,
        )
    ]


def _insert(node: Any) -> list[CaptureSpec]:
    table = written_name(node.relation)
    if node.returningClause is not None:
        return [_manual(CaptureKind.INSERT, table, "INSERT ... RETURNING cannot be rewritten")]
    conflict = node.onConflictClause
    if conflict is not None and conflict.action == OnConflictAction.ONCONFLICT_UPDATE:
        return [_upsert(node, table)]
    return [CaptureSpec(kind=CaptureKind.INSERT, table=table, target=_bare(node.relation))]


def _upsert(node: Any, table: QName) -> CaptureSpec:
    """ON CONFLICT DO UPDATE: the rows it may update are the existing rows whose conflict
    columns hold one of the inserted values. That is known before it runs only when those
    values are constants of a VALUES list (no function: evaluated again it could differ), or
    come from a query that gives the same values twice (capture_upsert_source.py), and the
    conflict target is plain columns the INSERT gives."""
    found = _conflict_values(node)
    if isinstance(found, str):
        return _manual(
            CaptureKind.UPSERT,
            table,
            f"ON CONFLICT DO UPDATE overwrites rows that cannot be told before it runs: {found}",
        )
    columns, values = found
    return CaptureSpec(
        kind=CaptureKind.UPSERT,
        table=table,
        target=_bare(node.relation),
        columns=tuple(dict.fromkeys(str(t.name) for t in node.onConflictClause.targetList or ())),
        conflict=columns,
        conflict_values=values,
    )


def _conflict_values(node: Any) -> tuple[tuple[str, ...], str] | str:
    """(conflict columns, `VALUES` of those columns only), or why they cannot be known."""
    infer = node.onConflictClause.infer
    if infer is None or infer.conname is not None:
        return "the conflict target names a constraint, not columns"
    if any(elem.name is None for elem in infer.indexElems or ()):
        return "the conflict target is an expression"
    target = tuple(str(elem.name) for elem in infer.indexElems)
    given = [str(col.name) for col in node.cols or ()]
    source = node.selectStmt
    if node.withClause is not None:
        return "its rows come from a query with a WITH clause"
    if not isinstance(source, ast.SelectStmt):
        return "it inserts DEFAULT VALUES"
    if any(col not in given for col in target):
        return "the INSERT does not name every conflict column"
    if not source.valuesLists or source.larg is not None:
        try:  # a query: its conflict values, when evaluating it again gives the same
            return target, query_conflicts(source, given, target)
        except ValueError as why:
            return f"its rows come from a query that cannot be evaluated twice alike: {why}"
    positions = [given.index(col) for col in target]
    rows = [tuple(row[i] for i in positions) for row in source.valuesLists]
    if not all(_constant(value) for row in rows for value in row):
        return "a conflict column's value is not a constant"
    return target, deparse(ast.SelectStmt(valuesLists=tuple(rows)))


def _constant(value: Any) -> bool:
    """A literal that is not NULL (NULL never conflicts), possibly cast."""
    if isinstance(value, ast.TypeCast):
        value = value.arg
    return isinstance(value, ast.A_Const) and not value.isnull


def _truncate(node: Any) -> list[CaptureSpec]:
    tables = [written_name(rv) for rv in node.relations or ()]
    if node.behavior == DropBehavior.DROP_CASCADE:
        return [
            _manual(CaptureKind.TRUNCATE, t, "TRUNCATE ... CASCADE empties other tables too")
            for t in tables
        ]
    return [
        CaptureSpec(kind=CaptureKind.TRUNCATE, table=written_name(rv), target=_bare(rv))
        for rv in node.relations or ()
    ]


def _drop(node: Any) -> list[CaptureSpec]:
    if node.removeType == ObjectType.OBJECT_SCHEMA:
        return [
            _manual(CaptureKind.DROP_TABLE, (str(o.sval),), "DROP SCHEMA: its tables are not kept")
            for o in node.objects or ()
            if isinstance(o, ast.String)
        ]
    if node.removeType != ObjectType.OBJECT_TABLE:
        return []
    specs = []
    for obj in node.objects or ():
        parts = tuple(str(p.sval) for p in obj if isinstance(p, ast.String))
        specs.append(CaptureSpec(kind=CaptureKind.DROP_TABLE, table=parts[-2:]))
    return specs


def _alter_table(node: Any) -> list[CaptureSpec]:
    if node.relation is None or node.objtype != ObjectType.OBJECT_TABLE:
        return []
    table = written_name(node.relation)
    specs = []
    for cmd in node.cmds or ():
        if cmd.subtype == AlterTableType.AT_DropColumn:
            kind = CaptureKind.DROP_COLUMN
        elif cmd.subtype == AlterTableType.AT_AlterColumnType:
            kind = CaptureKind.ALTER_TYPE
        else:
            continue
        specs.append(
            CaptureSpec(kind=kind, table=table, target=_bare(node.relation), columns=(cmd.name,))
        )
    return specs


def _do(node: Any) -> list[CaptureSpec]:
    """The writes of a DO block, each captured before the block or with its reason."""
    body, language = _do_option(node, "as"), _do_option(node, "language") or "plpgsql"
    found = block_writes(body, language)
    if isinstance(found, str):  # said for the tables it writes, when they are known
        written = rows_written(body, language) or []
        tables = dict.fromkeys(w.table for w in written)
        return [_manual(CaptureKind.UPDATE, t, f"DO block: {found}") for t in tables]
    whole = diffed_tables(found)
    specs = [
        CaptureSpec(_DIFF_KINDS[inserts], table, in_block=True, diff=True)
        for table, inserts in whole.items()
    ]
    for write in found:
        if write.table in whole:
            continue
        if write.node is None:
            kind = _BLOCK_KINDS[write.statement]
            specs.append(_manual(kind, write.table, f"DO block: {write.manual}"))
            continue
        rule = _RULES[type(write.node)]
        specs += [replace(s, in_block=True, reads=write.reads) for s in rule(write.node)]
    return list(dict.fromkeys(specs))  # one reason per table, however many writes give it


# A table kept whole: restored as an UPDATE's capture, or as an upsert's when the block also
# inserts (the added rows deleted).
_DIFF_KINDS = {False: CaptureKind.UPDATE, True: CaptureKind.UPSERT}
_BLOCK_KINDS = {
    "UpdateStmt": CaptureKind.UPDATE,
    "DeleteStmt": CaptureKind.DELETE,
    "InsertStmt": CaptureKind.INSERT,
    "MergeStmt": CaptureKind.MERGE,
    "TruncateStmt": CaptureKind.TRUNCATE,
}


def _do_option(node: Any, name: str) -> str:
    for arg in node.args or ():
        if arg.defname == name:
            return str(arg.arg.sval)
    return ""


_RULES: dict[type, Any] = {
    ast.UpdateStmt: _update,
    ast.DeleteStmt: _delete,
    ast.MergeStmt: _merge,
    ast.InsertStmt: _insert,
    ast.TruncateStmt: _truncate,
    ast.DropStmt: _drop,
    ast.AlterTableStmt: _alter_table,
    ast.DoStmt: _do,
}


def capture_specs(statement: Statement) -> list[CaptureSpec]:
    """What to keep before `statement` runs; empty when it changes no data."""
    rule = _RULES.get(type(statement.node))
    return rule(statement.node) if rule is not None else []


def returning_insert(statement: Statement, key: list[str], inserted: str | None = None) -> str:
    """The INSERT with `RETURNING <key>` added: the keys of exactly the rows it inserts.

    Chosen over comparing keys before and after: that needs a copy of every existing key (the
    whole table, for a ten-row insert into a large one) and cannot tell a row this statement
    inserted from one a trigger or an earlier statement did. RETURNING names exactly this
    statement's rows (DO NOTHING skips are not returned) in the same pass. `inserted`: the name
    of a column added saying whether the row was inserted (an upsert also returns the rows it
    updated; an inserted row has no xmax).
    """
    # A fresh tree from the text, not a deep copy: the script's nodes can be too deeply linked
    # for copy.deepcopy (a RecursionError on a 94-row seed).
    node: Any = parse_sql(statement.text)[0].stmt
    exprs = [ast.ResTarget(val=ast.ColumnRef(fields=(ast.String(sval=c),))) for c in key]
    if inserted:
        select: Any = parse_sql("SELECT xmax = 0")[0].stmt
        exprs.append(ast.ResTarget(name=inserted, val=select.targetList[0].val))
    node.returningClause = ast.ReturningClause(exprs=tuple(exprs))
    return deparse(node)
