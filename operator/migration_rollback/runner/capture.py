"""Keep what a forward statement is about to change, inside the migration's own transaction.

Each capture is a plain table in the `migration_rollback_capture` schema, written by one
`CREATE TABLE ... AS SELECT` built from the statement's own clauses (see capture_plan), and a
row in `migration_rollback_capture.captures` saying which migration, statement and table it
belongs to, its key, the captured columns with their types as they were, its size, and the
transaction id of the migration (what "changed since the migration" is measured against).

Exactness is checked, not assumed: the captured table is locked against writers first (rows
changing between the capture and the statement would not be kept), and the statement must
touch exactly the rows that were captured, or the migration is rolled back with the reason.
Everything is composed with psycopg's `sql` module; the statement's clauses come from pglast.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from migration_rollback.runner.archive import regclass_text, relation_name, row_key
from migration_rollback.runner.capture_cascade import Edge, reached, referencing
from migration_rollback.runner.capture_plan import (
    CaptureKind,
    CaptureSpec,
    capture_specs,
    returning_insert,
)
from migration_rollback.runner.errors import PostCheckError, PreconditionError
from migration_rollback.runner.naming import fit_identifier
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement

CAPTURE_SCHEMA = "migration_rollback_capture"
CATALOG = "captures"

_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS {catalog} (
  id bigserial PRIMARY KEY,
  applied_id text NOT NULL,
  version text NOT NULL,
  migration text NOT NULL,
  statement int NOT NULL,
  line int NOT NULL,
  kind text NOT NULL,
  status text NOT NULL,
  reason text,
  target_schema text,
  target_table text,
  key_columns text[] NOT NULL DEFAULT '{{}}',
  columns text[] NOT NULL DEFAULT '{{}}',
  column_types text[] NOT NULL DEFAULT '{{}}',
  capture_table text,
  rows bigint,
  bytes bigint,
  xid xid8,
  source_sha256 text,
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  restored_at timestamptz
)
"""


class CaptureLimitError(PreconditionError):
    """A capture would exceed --capture-max-rows / --capture-max-bytes: nothing was applied."""


class CaptureMismatchError(PostCheckError):
    """The statement touched other rows than the ones captured: the migration is rolled back."""


@dataclass(frozen=True, slots=True)
class CaptureLimits:
    max_rows: int | None = None
    max_bytes: int | None = None


@dataclass
class CaptureRecord:
    """One kept table (or the reason nothing could be kept), as written to the catalog."""

    statement: int
    line: int
    kind: CaptureKind
    status: str  # captured | manual | opted-out
    schema: str = ""
    table: str = ""
    reason: str | None = None
    key: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    capture_table: str | None = None
    rows: int = 0
    bytes: int = 0
    detail: dict[str, Any] | None = None

    @property
    def target(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def catalog_ident() -> sql.Identifier:
    return sql.Identifier(CAPTURE_SCHEMA, CATALOG)


def ensure_capture_schema(conn: Connection) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(CAPTURE_SCHEMA)))
    conn.execute(sql.SQL(_CATALOG_DDL).format(catalog=catalog_ident()))


def new_applied_id() -> str:
    return uuid.uuid4().hex[:12]


def capture_table_name(version: str, statement: int, item: int, table: str, applied: str) -> str:
    return fit_identifier(f"{version}_{statement}_{item}_{table}", f"_{applied}")


# --- the catalog's view of the table ------------------------------------------------------


def _live_columns(conn: Connection, oid: int) -> list[tuple[str, str]]:
    """(name, type) of every stored, writable column: generated columns are recomputed."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = '' "
        "ORDER BY attnum",
        [oid],
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows]


def _user_typed(conn: Connection, oid: int) -> set[str]:
    """Columns of a type outside pg_catalog (enum, domain, composite, an extension's type).

    The capture keeps their values as text: a capture table holding the type itself would
    depend on it, and a migration that drops the type (the enum swap: rename the old type, make
    the new one, convert the column, drop the old) would fail on the capture. Restores cast the
    text back to the type recorded for the column, which the rollback has recreated by then.
    """
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "AND t.typnamespace <> 'pg_catalog'::regnamespace",
        [oid],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _cascading_children(conn: Connection, oid: int) -> list[str]:
    """Tables whose rows a DELETE here would delete or change too (they are not kept)."""
    rows = conn.execute(
        "SELECT conrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid = %s AND confdeltype IN ('c', 'n', 'd')",
        [oid],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _lock(conn: Connection, oid: int, kind: CaptureKind) -> None:
    """Writers must not change the rows between the capture and the statement.

    SHARE ROW EXCLUSIVE blocks writers but not readers; the DDL kinds take ACCESS EXCLUSIVE
    right away, as their statement is about to anyway (taking it first avoids an upgrade).
    """
    mode = "SHARE ROW EXCLUSIVE"
    if kind in (CaptureKind.TRUNCATE, CaptureKind.DROP_TABLE, CaptureKind.DROP_COLUMN) or (
        kind is CaptureKind.ALTER_TYPE
    ):
        mode = "ACCESS EXCLUSIVE"
    conn.execute(
        sql.SQL("LOCK TABLE {} IN {} MODE").format(
            sql.Identifier(*relation_name(conn, oid)), sql.SQL(mode)
        )
    )


# --- taking one capture --------------------------------------------------------------------


@dataclass
class PendingCapture:
    """A capture taken just before its statement; checked against the statement afterwards."""

    record: CaptureRecord
    rewritten: str | None = None  # the statement to run instead (INSERT ... RETURNING)
    # Rows of other tables the statement changes through foreign keys (capture_cascade.py),
    # parents first; not checked against the statement's row count.
    cascaded: list[CaptureRecord] = field(default_factory=list)

    @property
    def records(self) -> list[CaptureRecord]:
        """In catalog order: the deepest children first, so that restores (newest row first)
        put the parents back before the rows that reference them."""
        return [*reversed(self.cascaded), self.record]


def take_captures(
    conn: Connection,
    statement: Statement,
    number: int,
    *,
    version: str,
    applied: str,
    limits: CaptureLimits,
) -> list[PendingCapture]:
    """Every capture one statement needs (capture_plan decides), taken before it runs: the one
    capture step `apply` runs and the verifier's round trip runs too."""
    pendings = []
    for index, spec in enumerate(capture_specs(statement)):
        pending = capture(
            conn, statement, number, index, spec, version=version, applied=applied, limits=limits
        )
        if pending is not None:
            pendings.append(pending)
    return pendings


def run_checked(
    conn: Connection, statement: Statement, pendings: list[PendingCapture]
) -> list[CaptureRecord]:
    """Run the statement (rewritten when a capture needs its inserted keys), then check it
    touched exactly the captured rows."""
    text = next((p.rewritten for p in pendings if p.rewritten), statement.text)
    cur = conn.execute(text)
    for pending in pendings:
        check_statement(pending, cur.rowcount, conn)
    return [r for p in pendings for r in p.records]


def _refusal(spec: CaptureSpec, base: CaptureRecord, reason: str) -> PendingCapture:
    base.status = "manual"
    base.reason = reason
    return PendingCapture(base)


def capture(
    conn: Connection,
    statement: Statement,
    number: int,
    item: int,
    spec: CaptureSpec,
    *,
    version: str,
    applied: str,
    limits: CaptureLimits,
) -> PendingCapture | None:
    """Keep what `spec` says, before the statement runs. None: nothing to keep (no table)."""
    base = CaptureRecord(
        statement=number, line=statement.location.line, kind=spec.kind, status="captured"
    )
    if spec.manual:
        base.table = ".".join(spec.table)
        return _refusal(spec, base, spec.manual)
    row = conn.execute("SELECT to_regclass(%s)::oid", [regclass_text(conn, spec.table)]).fetchone()
    if row is None or row[0] is None:
        return None  # the statement errors, or is a no-op with IF EXISTS: nothing to keep
    oid = int(row[0])
    base.schema, base.table = relation_name(conn, oid)
    key = row_key(conn, oid) if spec.kind.needs_key else []
    problem = _problem(conn, oid, spec, key)
    found = reached(conn, oid) if spec.kind is CaptureKind.DELETE and not problem else []
    edges: list[Edge] = []
    if isinstance(found, str):
        problem = found
    else:
        edges = found
    if problem:
        return _refusal(spec, base, problem)
    _lock(conn, oid, spec.kind)
    base.key = key
    chosen = _captured_columns(conn, oid, spec, key)
    base.columns = [name for name, _ in chosen]
    base.types = [kind for _, kind in chosen]
    base.capture_table = capture_table_name(version, number, item, base.table, applied)
    target = sql.Identifier(CAPTURE_SCHEMA, base.capture_table)
    rewritten = None
    if spec.kind is CaptureKind.INSERT:
        rewritten = _prepare_insert(conn, statement, target, base)
    else:
        as_text = _user_typed(conn, oid) - set(key)
        cur = conn.execute(_capture_query(target, spec, base, as_text))
        base.rows = max(cur.rowcount, 0)
        _check_limits(conn, target, base, limits, version)
    pending = PendingCapture(base, rewritten)
    for n, edge in enumerate(edges, start=1):
        slot = 1000 * (item + 1) + n  # the child's capture table: apart from the statement's own

        def name(table: str, slot: int = slot) -> str:
            return capture_table_name(version, number, slot, table, applied)

        pending.cascaded.append(_capture_child(conn, edge, oid, pending, name, limits, version))
    return pending


def _capture_child(
    conn: Connection,
    edge: Edge,
    top: int,
    pending: PendingCapture,
    name: Callable[[str], str],
    limits: CaptureLimits,
    version: str,
) -> CaptureRecord:
    """The rows of one child that reference a kept parent row (see capture_cascade.py)."""
    parent = pending.record
    if edge.parent != top:
        parent = next(r for r in pending.cascaded if r.detail and r.detail["oid"] == edge.parent)
    schema, table = relation_name(conn, edge.child)
    _lock(conn, edge.child, CaptureKind.UPDATE)
    types = dict(_live_columns(conn, edge.child))
    wanted = list(types) if edge.deletes else [*edge.key, *edge.child_columns]
    record = CaptureRecord(
        statement=parent.statement, line=parent.line, status="captured", schema=schema,
        table=table, kind=CaptureKind.DELETE if edge.deletes else CaptureKind.UPDATE,
        key=list(edge.key), columns=wanted, types=[types[c] for c in wanted],
        capture_table=name(table),
        detail={"oid": edge.child, "cascade_from": parent.target},
    )  # fmt: skip
    target = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
    as_text = _user_typed(conn, edge.child) - set(edge.key)
    columns = sql.SQL(", ").join(_kept_column("c", c, c in as_text) for c in wanted)
    kept = sql.Identifier(CAPTURE_SCHEMA, parent.capture_table or "")
    query = referencing(
        edge,
        sql.Identifier(schema, table),
        columns,
        kept,
        dict(zip(parent.columns, parent.types, strict=True)),
    )
    cur = conn.execute(sql.SQL("CREATE TABLE {} AS {}").format(target, query))
    record.rows = max(cur.rowcount, 0)
    _check_limits(conn, target, record, limits, version)
    return record


def _problem(conn: Connection, oid: int, spec: CaptureSpec, key: list[str]) -> str | None:
    if spec.kind.needs_key and not key:
        return (
            f"{'.'.join(relation_name(conn, oid))} has no primary key or NOT NULL unique key: "
            "its rows cannot be matched back"
        )
    if spec.kind is CaptureKind.UPDATE and set(spec.columns) & set(key):
        return "the UPDATE changes the key itself: its rows cannot be matched back"
    if spec.kind is CaptureKind.ALTER_TYPE and spec.columns[0] in key:
        return "the converted column is part of the key: its rows cannot be matched back"
    if spec.kind is CaptureKind.MERGE:
        children = _cascading_children(conn, oid)
        if children:
            return (
                f"deleting here cascades to {', '.join(children)} (ON DELETE CASCADE / SET "
                "NULL / SET DEFAULT): those rows are not kept"
            )
    return None


def _captured_columns(
    conn: Connection, oid: int, spec: CaptureSpec, key: list[str]
) -> list[tuple[str, str]]:
    live = _live_columns(conn, oid)
    types = dict(live)
    if spec.kind is CaptureKind.INSERT:
        wanted = list(key)
    elif spec.columns:
        wanted = [*key, *(c for c in spec.columns if c not in key)]
    else:
        return live
    return [(name, types[name]) for name in wanted if name in types]


def _capture_query(
    target: sql.Identifier, spec: CaptureSpec, record: CaptureRecord, as_text: set[str]
) -> sql.Composed:
    """`CREATE TABLE <capture> AS [WITH ...] SELECT <cols> FROM <target> WHERE <same where>`."""
    if spec.alias:  # the statement's clauses name the target by its alias (or its name)
        source: sql.Composable = sql.SQL(spec.target)
    else:
        source = sql.Identifier(record.schema, record.table)
    columns = sql.SQL(", ").join(_kept_column(spec.alias, c, c in as_text) for c in record.columns)
    condition: sql.Composable | None = None
    if spec.from_sql is not None:
        inner = sql.SQL("SELECT FROM {}").format(sql.SQL(spec.from_sql))
        if spec.where_sql is not None:
            inner = sql.SQL("{} WHERE {}").format(inner, sql.SQL(spec.where_sql))
        condition = sql.SQL("EXISTS ({})").format(inner)
    elif spec.where_sql is not None:
        condition = sql.SQL("({})").format(sql.SQL(spec.where_sql))
    query = sql.SQL("SELECT {} FROM {}").format(columns, source)
    if condition is not None:
        query = sql.SQL("{} WHERE {}").format(query, condition)
    if spec.with_sql:
        query = sql.SQL("{} {}").format(sql.SQL(spec.with_sql), query)
    return sql.SQL("CREATE TABLE {} AS {}").format(target, query)


def _kept_column(alias: str, column: str, as_text: bool) -> sql.Composable:
    name = sql.Identifier(column)
    value = sql.SQL("{}.{}").format(sql.Identifier(alias), name) if alias else name
    return sql.SQL("{}::text AS {}").format(value, name) if as_text else value


def _prepare_insert(
    conn: Connection, statement: Statement, target: sql.Identifier, record: CaptureRecord
) -> str:
    """An empty table for the inserted keys, and the INSERT rewritten to fill it."""
    conn.execute(
        sql.SQL("CREATE TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
            target,
            sql.SQL(", ").join(sql.Identifier(c) for c in record.key),
            sql.Identifier(record.schema, record.table),
        )
    )
    cte = sql.Identifier("migration_rollback_inserted")
    return (
        sql.SQL("WITH {cte} AS ({insert}) INSERT INTO {target} SELECT * FROM {cte}")
        .format(cte=cte, insert=sql.SQL(returning_insert(statement, record.key)), target=target)
        .as_string(conn)
    )


def _check_limits(
    conn: Connection,
    target: sql.Identifier,
    record: CaptureRecord,
    limits: CaptureLimits,
    version: str,
) -> None:
    row = conn.execute(
        "SELECT pg_total_relation_size(to_regclass(%s))", [target.as_string(conn)]
    ).fetchone()
    record.bytes = int(row[0]) if row and row[0] is not None else 0
    over = []
    if limits.max_rows is not None and record.rows > limits.max_rows:
        over.append(f"{record.rows} rows (limit --capture-max-rows {limits.max_rows})")
    if limits.max_bytes is not None and record.bytes > limits.max_bytes:
        over.append(f"{record.bytes} bytes (limit --capture-max-bytes {limits.max_bytes})")
    if over:
        raise CaptureLimitError(
            f"migration {version}, statement {record.statement} (line {record.line}): keeping "
            f"what it changes in {record.target} takes {' and '.join(over)}; nothing was "
            f"applied. Raise the limit, or pass --no-capture {version} to apply it without a "
            "capture (its rollback then restores from the backup, as before)"
        )


def check_statement(pending: PendingCapture, rowcount: int, conn: Connection) -> None:
    """The statement must have touched exactly the captured rows."""
    record = pending.record
    if record.status != "captured":
        return
    if record.kind is CaptureKind.INSERT:
        record.rows = max(rowcount, 0)
        target = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
        _check_limits(conn, target, record, CaptureLimits(), "")
        return
    exact = record.kind in (CaptureKind.UPDATE, CaptureKind.DELETE)
    if rowcount < 0 or not exact:
        if record.kind is CaptureKind.MERGE and rowcount > record.rows:
            raise CaptureMismatchError(_mismatch(record, rowcount))
        return
    if rowcount != record.rows:
        raise CaptureMismatchError(_mismatch(record, rowcount))


def _mismatch(record: CaptureRecord, rowcount: int) -> str:
    return (
        f"statement {record.statement} (line {record.line}) changed {rowcount} row(s) of "
        f"{record.target}, but {record.rows} were captured before it (a volatile WHERE, or a "
        "trigger); the migration was rolled back: make the statement deterministic, or apply "
        "it with --no-capture"
    )


def record_capture(
    conn: Connection,
    record: CaptureRecord,
    *,
    applied: str,
    version: str,
    migration: str,
    sha256: str,
) -> None:
    """One catalog row; the migration's transaction id is filled in just before COMMIT."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (applied_id, version, migration, statement, line, kind, status, "
            "reason, target_schema, target_table, key_columns, columns, column_types, "
            "capture_table, rows, bytes, source_sha256, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(catalog_ident()),
        [
            applied,
            version,
            migration,
            record.statement,
            record.line,
            str(record.kind),
            record.status,
            record.reason,
            record.schema or None,
            record.table or None,
            record.key,
            record.columns,
            record.types,
            record.capture_table,
            record.rows,
            record.bytes,
            sha256,
            _json(record.detail),
        ],
    )


def _json(detail: dict[str, Any] | None) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(detail) if detail is not None else None


def stamp_transaction(conn: Connection, applied: str) -> int:
    """Record the migration's transaction id on its captures (the "since" of loss accounting)."""
    cur = conn.execute(
        sql.SQL("UPDATE {} SET xid = pg_current_xact_id() WHERE applied_id = %s").format(
            catalog_ident()
        ),
        [applied],
    )
    return cur.rowcount


# --- sequences -----------------------------------------------------------------------------

_SEQUENCES = """
SELECT schemaname::text, sequencename::text, last_value FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""


def sequence_values(conn: Connection) -> dict[tuple[str, str], int | None]:
    """Every sequence's position (None: never used); cheap, one catalog view."""
    return {
        (str(s), str(n)): (int(v) if v is not None else None)
        for s, n, v in conn.execute(_SEQUENCES)
    }


def sequence_records(
    before: dict[tuple[str, str], int | None], after: dict[tuple[str, str], int | None]
) -> list[CaptureRecord]:
    """A record for each sequence the migration moved: its value before and after."""
    moved = []
    for name, value in sorted(before.items()):
        if name in after and after[name] != value:
            moved.append(
                CaptureRecord(
                    statement=0,
                    line=0,
                    kind=CaptureKind.SEQUENCE,
                    status="captured",
                    schema=name[0],
                    table=name[1],
                    detail={"before": value, "after": after[name]},
                )
            )
    return moved
