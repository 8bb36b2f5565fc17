"""An archived table stands alone: nothing in it still depends on the live objects it used.

The rollback that archives a table often drops, next, what that table used: the enum of a
column, the function of a generated column or of a CHECK, the extension behind either. A DROP
TABLE would have taken those uses away; archiving must too, or the rollback fails at `execute`
("cannot drop function … because column … of table migration_rollback_archive.… depends on
it"). So, on each archived table: generated columns keep their values as plain columns, CHECK
constraints and indexes over functions that are not built in go, and columns of types that are
not built in (enums, domains, composites, extensions' types) are kept as text with the type
recorded in the column's comment (this rewrites those tables). The verifier's round trip runs
the same code (verify/as_runner.py), so what it proves is what `execute` runs.

Every read goes in one round trip and every change in one more, whatever the number of tables
and columns: the reads name what they find, and the changes are planned from them in order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from psycopg import sql

from migration_rollback.runner import prepared
from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip, trip

# Each read gives the table (or index) it names as schema and name, after what it finds.
_NAMED = sql.SQL(
    "JOIN pg_catalog.pg_class c ON c.oid = {0} "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
)

# Inherited columns follow their parent's DROP EXPRESSION (PostgreSQL refuses it on the child).
_GENERATED_COLUMNS = sql.SQL("""
SELECT a.attname, n.nspname, c.relname FROM pg_catalog.pg_attribute a {named}
WHERE a.attrelid = ANY(%(m)s) AND a.attgenerated <> '' AND a.attinhcount = 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
""").format(named=_NAMED.format(sql.SQL("a.attrelid")))

_CONSTRAINTS = sql.SQL("'pg_catalog.pg_constraint'::pg_catalog.regclass")
_RELATIONS = sql.SQL("'pg_catalog.pg_class'::pg_catalog.regclass")
_USES_USER_FUNCTION = sql.SQL("""
EXISTS (SELECT FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
        WHERE d.classid = {0} AND d.objid = {1}
          AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace)
""")
_FUNCTION_CHECKS = sql.SQL("""
SELECT k.conrelid, k.conname, n.nspname, c.relname FROM pg_catalog.pg_constraint k
{named}
WHERE k.conrelid = ANY(%(m)s) AND k.contype = 'c' AND k.coninhcount = 0
  AND {uses}
ORDER BY 1, 2
""").format(
    named=_NAMED.format(sql.SQL("k.conrelid")),
    uses=_USES_USER_FUNCTION.format(_CONSTRAINTS, sql.SQL("k.oid")),
)
_FUNCTION_INDEXES = sql.SQL("""
SELECT i.indexrelid, n.nspname, c.relname FROM pg_catalog.pg_index i
{named}
WHERE i.indrelid = ANY(%(m)s)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
  AND {uses}
ORDER BY 1
""").format(
    named=_NAMED.format(sql.SQL("i.indexrelid")),
    uses=_USES_USER_FUNCTION.format(_RELATIONS, sql.SQL("i.indexrelid")),
)

# Columns of archived tables whose type is not built in (an enum, a domain, a composite or an
# extension's type), with what to record of the type: PostgreSQL's description and, for an
# enum, its labels. The rollback often drops that type next (it created it with the table).
# The last field: whether the column is the table's own. An inherited one (a partition's, an
# inheritance child's) changes type with its parent's ALTER, which recurses; PostgreSQL refuses
# it on the child ("cannot alter inherited column"). Tables in the order given (parents first).
_FOREIGN_TYPED_COLUMNS = sql.SQL("""
SELECT a.attrelid, a.attnum, a.attname, tn.nspname, c.relname,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)
         || CASE WHEN t.oid <> at.oid THEN '[]' ELSE '' END,
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain over '
              || pg_catalog.format_type(t.typbasetype, t.typtypmod)
            WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE 'type' END,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                     ORDER BY e.enumsortorder)
        FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
       a.attinhcount = 0
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN at.typelem <> 0 AND at.typlen = -1
                                          AND at.typcategory = 'A' THEN at.typelem ELSE at.oid END
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = c.relnamespace
WHERE a.attrelid = ANY(%(m)s) AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY pg_catalog.array_position(%(m)s, a.attrelid), a.attnum
""")


class _TypedColumn(NamedTuple):
    """A row of _FOREIGN_TYPED_COLUMNS."""

    relid: int
    attnum: int
    column: str
    schema: str
    table: str
    type_sql: str
    variety: str
    labels: str | None
    own: bool

    @property
    def named(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)

    def described(self) -> str:
        return _what(self.type_sql, self.variety, self.labels)


# What on an archived table would stop a column changing type: CHECK, exclusion and foreign
# key constraints on the column, indexes with an expression or predicate over it. A CHECK
# comparing an enum column with the enum's literals cannot be rebuilt over text.
_BLOCKING_CONSTRAINTS = sql.SQL("""
SELECT k.conrelid, a.attnum, k.conname FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
WHERE k.conrelid = ANY(%(m)s) AND k.contype IN ('c', 'x', 'f')
ORDER BY k.conrelid, a.attnum, k.conname
""")
_BLOCKING_INDEXES = sql.SQL("""
SELECT DISTINCT i.indrelid, d.refobjsubid, i.indexrelid, n.nspname, c.relname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND d.objid = i.indexrelid AND d.refobjid = i.indrelid
{named}
WHERE i.indrelid = ANY(%(m)s) AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1, 2, 3
""").format(named=_NAMED.format(sql.SQL("i.indexrelid")))


class Tie(Enum):
    """What an archived table may hold that ties it to live objects."""

    GENERATED = "generated column"
    CHECK = "check constraint calling a function"
    EXPRESSION_INDEX = "index with an expression or predicate"
    FOREIGN_TYPE = "column of a type that is not built in"


# Whether the table {0} holds a tie of the kind: cheap to plan (the reads above cost some 3 ms
# to plan for a table), and never false where a read it gates would find something, so that a
# caller who asks these first sends only the reads that can find something. Their aliases are
# their own (`tie_...`), so that {0} can name a column of the caller's query; OFFSET 0 keeps
# each an index probe per table (without it the planner may hash the whole catalog instead).
TIES: dict[Tie, sql.SQL] = {
    Tie.GENERATED: sql.SQL(
        "EXISTS (SELECT FROM pg_catalog.pg_attribute tie_a "
        "WHERE tie_a.attrelid = {0} AND tie_a.attgenerated <> '' OFFSET 0)"
    ),
    Tie.CHECK: sql.SQL(
        "EXISTS (SELECT FROM pg_catalog.pg_constraint tie_k JOIN pg_catalog.pg_depend tie_d "
        "ON tie_d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass "
        "AND tie_d.objid = tie_k.oid "
        "AND tie_d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
        "WHERE tie_k.conrelid = {0} AND tie_k.contype = 'c' OFFSET 0)"
    ),
    # Only an expression or a predicate makes an index depend on a function.
    Tie.EXPRESSION_INDEX: sql.SQL(
        "EXISTS (SELECT FROM pg_catalog.pg_index tie_i WHERE tie_i.indrelid = {0} "
        "AND (tie_i.indexprs IS NOT NULL OR tie_i.indpred IS NOT NULL) OFFSET 0)"
    ),
    # The column's type or, for an array, its element's (as _FOREIGN_TYPED_COLUMNS reads);
    # each joined by its key (a join on either of two keys would scan pg_type per column).
    Tie.FOREIGN_TYPE: sql.SQL("""EXISTS (SELECT FROM pg_catalog.pg_attribute tie_a
  JOIN pg_catalog.pg_type tie_t ON tie_t.oid = tie_a.atttypid
  LEFT JOIN pg_catalog.pg_type tie_e ON tie_e.oid = tie_t.typelem
  WHERE tie_a.attrelid = {0} AND tie_a.attnum > 0 AND NOT tie_a.attisdropped
    AND (tie_t.typnamespace NOT IN (SELECT oid FROM pg_catalog.pg_namespace
                                    WHERE nspname IN ('pg_catalog', 'information_schema'))
         OR tie_e.typnamespace NOT IN (SELECT oid FROM pg_catalog.pg_namespace
                                       WHERE nspname IN ('pg_catalog', 'information_schema')))
  OFFSET 0)"""),
}

# Each read, and the tie it looks for (the type reads matter only with such a column).
_MEMBERS = ("m", "oid[]")
_FUNCTION_READS = (
    (prepared.read(_GENERATED_COLUMNS, _MEMBERS), Tie.GENERATED),
    (prepared.read(_FUNCTION_CHECKS, _MEMBERS), Tie.CHECK),
    (prepared.read(_FUNCTION_INDEXES, _MEMBERS), Tie.EXPRESSION_INDEX),
)
_TYPE_READS = (
    (prepared.read(_FOREIGN_TYPED_COLUMNS, _MEMBERS), Tie.FOREIGN_TYPE),
    (prepared.read(_BLOCKING_CONSTRAINTS, _MEMBERS), Tie.FOREIGN_TYPE),
    (prepared.read(_BLOCKING_INDEXES, _MEMBERS), Tie.FOREIGN_TYPE),
)
_Rows = list[tuple[Any, ...]]


@dataclass
class InertChanges:
    """The statements that make the archive inert, in order, and the notes for the result.
    A constraint or index is dropped once, though a read may name it again (for a second
    column, or as calling a function and blocking a type change)."""

    statements: list[sql.Composed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped: set[tuple[int, str] | int] = field(default_factory=set)

    def drop_once(self, key: tuple[int, str] | int, statement: sql.Composed) -> bool:
        if key in self.dropped:
            return False
        self.dropped.add(key)
        self.statements.append(statement)
        return True


def make_inert(
    conn: Connection, oids: Sequence[int], ties: Collection[Tie] = frozenset(Tie)
) -> list[str]:
    """Cut every tie from the archived tables `oids` to live functions and types. `ties`:
    the kinds they may hold (see `TIES`); the reads for the others are not sent."""
    if not ties:
        return []
    with trip(conn) as sent:  # every read in one round trip
        pending = queue_inert_reads(sent, oids, ties)
    return _apply(conn, pending.changes())


@dataclass
class PendingInert:
    """The reads of `make_inert`, sent in the caller's round trip (None: a read not sent)."""

    cursors: list[Fetched | None]

    def changes(self) -> InertChanges:
        """The statements that make the archive inert, planned from what the reads found."""
        rows = [cursor.fetchall() if cursor is not None else [] for cursor in self.cursors]
        changes = InertChanges()
        _drop_generation_expressions(changes, rows[0])
        _drop_function_uses(changes, rows[1], rows[2])
        _untype_columns(changes, rows[3], rows[4], rows[5])
        return changes


def queue_inert_reads(
    sent: Trip, oids: Sequence[int], ties: Collection[Tie] = frozenset(Tie)
) -> PendingInert:
    """In the caller's trip: the reads of `make_inert` for the kinds of tie `ties`."""
    reads = (*_FUNCTION_READS, *_TYPE_READS)
    return PendingInert(
        [prepared.execute(sent, q, {"m": list(oids)}) if t in ties else None for q, t in reads]
    )


def untype_columns(conn: Connection, oids: Sequence[int]) -> list[str]:
    """Turn archived columns of non-built-in types into text (what the type was goes into the
    column's comment), so that the rollback can drop the type (or extension) it created with
    the table, and the archive keeps its data readable without it. Rewrites those tables."""
    changes = InertChanges()
    with trip(conn) as sent:  # every read in one round trip
        cursors = [prepared.execute(sent, q, {"m": list(oids)}) for q, _ in _TYPE_READS]
    _untype_columns(changes, *(cursor.fetchall() for cursor in cursors))
    return _apply(conn, changes)


def _apply(conn: Connection, changes: InertChanges) -> list[str]:
    with trip(conn) as sent:  # and every change in one more; the first failure raises
        queue_changes(sent, changes)
    return changes.notes


def queue_changes(sent: Trip, changes: InertChanges) -> None:
    """In the caller's trip: the statements, in order; the first failure raises."""
    for statement in changes.statements:
        sent.execute(statement)


# --- generated columns: the values stay, the expression goes ------------------------------


def _drop_generation_expressions(changes: InertChanges, generated: _Rows) -> None:
    """Generated columns become plain columns holding the values they had: the expression
    would keep the functions and the other columns' types it reads."""
    for column, schema, table in generated:
        changes.statements.append(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP EXPRESSION").format(
                sql.Identifier(schema, table), sql.Identifier(column)
            )
        )
        changes.notes.append(
            f"archived generated column {_shown(schema, table)}.{column} kept as a plain column"
        )


# --- CHECK constraints and indexes over functions that are not built in --------------------


def _drop_function_uses(changes: InertChanges, checks: _Rows, indexes: _Rows) -> None:
    """CHECK constraints and indexes of the archive that call functions outside pg_catalog go:
    they would keep the function (the data does not need them)."""
    for relid, conname, schema, table in checks:
        statement = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(schema, table), sql.Identifier(conname)
        )
        changes.drop_once((int(relid), str(conname)), statement)
        changes.notes.append(
            f"dropped check {conname} of archived {_shown(schema, table)} (it calls a function)"
        )
    for index, schema, name in indexes:
        changes.drop_once(int(index), sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
        changes.notes.append(
            f"dropped index {_shown(schema, name)} of the archive (it calls a function)"
        )


# --- columns of types that are not built in: kept as text -------------------------------


def _untype_columns(changes: InertChanges, columns: _Rows, blocking: _Rows, indexes: _Rows) -> None:
    """First every constraint and index that blocks a column's type change (an inherited
    column's too: its parent's ALTER changes it); then per table, parents first, one ALTER TABLE
    changes its own columns (each ALTER COLUMN ... TYPE in a statement of its own rewrote the
    table once more), and each column's comment says what it was."""
    typed = [_TypedColumn(*row) for row in columns]
    by_table: dict[int, list[_TypedColumn]] = {}
    for column in typed:
        by_table.setdefault(int(column.relid), []).append(column)
    for relid, table_columns in by_table.items():
        keys = {(column.relid, column.attnum) for column in table_columns}
        _drop_blockers(changes, relid, table_columns[0].named, keys, (blocking, indexes))
    for table_columns in by_table.values():
        changes.statements += _as_text(table_columns)
        changes.notes += [
            f"archived column {_shown(c.schema, c.table)}.{c.column} of type "
            f"{c.described()} kept as text"
            for c in table_columns
        ]


def _drop_blockers(
    changes: InertChanges,
    relid: int,
    target: sql.Identifier,
    keys: set[tuple[Any, Any]],
    found: tuple[_Rows, _Rows],
) -> None:
    """The constraints and indexes over the columns `keys` of table `relid` that would stop
    their type change (the reads' order: by column)."""
    blocking, indexes = found
    for conname in (r[2] for r in blocking if (r[0], r[1]) in keys):
        changes.drop_once(
            (relid, str(conname)),
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                target, sql.Identifier(conname)
            ),
        )
    for index, index_schema, name in (r[2:] for r in indexes if (r[0], r[1]) in keys):
        changes.drop_once(
            int(index),
            sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index_schema, name)),
        )


def _what(type_sql: str, variety: str, labels: str | None) -> str:
    return f"{type_sql} ({variety}" + (f": {labels})" if labels else ")")


def _as_text(columns: Sequence[_TypedColumn]) -> list[sql.Composed]:
    """One ALTER TABLE turning the table's own columns into text (one rewrite; none when all
    are inherited), then each column's comment."""
    table = columns[0].named
    own = [sql.Identifier(c.column) for c in columns if c.own]
    statements: list[sql.Composed] = []
    if own:
        changes = sql.SQL(", ").join(
            sql.SQL("ALTER COLUMN {0} TYPE text USING {0}::text").format(name) for name in own
        )
        statements.append(sql.SQL("ALTER TABLE {} {}").format(table, changes))
    for column in columns:
        comment = (
            f"was {column.described()}; stored as text by migration-rollback so that the "
            "archive does not depend on the type"
        )
        statements.append(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                table, sql.Identifier(column.column), sql.Literal(comment)
            )
        )
    return statements


def _shown(schema: str, name: str) -> str:
    """A table or index as the notes name it: quoted, as SQL would."""
    return sql.Identifier(schema, name).as_string()
