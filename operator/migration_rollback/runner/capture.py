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

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import sql

from migration_rollback.runner.capture_cascade import Edge, reached, referencing
from migration_rollback.runner.capture_catalog import (
    CAPTURE_SCHEMA,
    CaptureRecord,
    capture_table_name,
)
from migration_rollback.runner.capture_definition_plan import planned_captures
from migration_rollback.runner.capture_definition_read import After
from migration_rollback.runner.capture_definitions import capture_definition
from migration_rollback.runner.capture_diff import DIFF, keep_whole, settle, too_big
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec
from migration_rollback.runner.capture_table import (
    capture_problem,
    capture_query,
    captured_columns,
    kept_column,
    live_columns,
    lock_against_writers,
    lock_reads,
    prepare_insert,
    user_typed,
)
from migration_rollback.runner.capture_triggers import (
    RowTrigger,
    as_detail,
    before_row_triggers,
    cascade_triggers,
    row_triggers,
)
from migration_rollback.runner.capture_upsert import capture_upsert, unkept_updates
from migration_rollback.runner.catalog_path import CatalogPath
from migration_rollback.runner.errors import PostCheckError, PreconditionError
from migration_rollback.runner.relations import relation_name, resolve_relation, row_key
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement


class CaptureLimitError(PreconditionError):
    """A capture would exceed --capture-max-rows / --capture-max-bytes: nothing was applied."""


class CaptureMismatchError(PostCheckError):
    """The statement touched other rows than the ones captured: the migration is rolled back."""


@dataclass(frozen=True, slots=True)
class CaptureLimits:
    max_rows: int | None = None
    max_bytes: int | None = None


@dataclass
class PendingCapture:
    """A capture taken just before its statement; checked against the statement afterwards."""

    record: CaptureRecord
    rewritten: str | None = None  # the statement to run instead (INSERT ... RETURNING)
    # Rows of other tables the statement changes through foreign keys (capture_cascade.py),
    # parents first; not checked against the statement's row count.
    cascaded: list[CaptureRecord] = field(default_factory=list)
    after: After | None = None  # a definition's check once the statement ran

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
    for index, spec in enumerate(planned_captures(statement)):
        if spec.kind.keeps_definition:
            record, after = capture_definition(conn, statement, number, spec)
            pendings.append(PendingCapture(record, after=after))
            continue
        take = _in_block if spec.in_block else capture
        pending = take(
            conn, statement, number, index, spec, version=version, applied=applied, limits=limits
        )
        if pending is not None:
            pendings.append(pending)
    return pendings


def _in_block(
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
    """A write inside a DO block, captured before the block: a capture that fails (the block
    may run the write only under a condition, `IF EXISTS (... column ...)`) keeps nothing and
    says why, instead of failing the migration. Only errors of the capture's own text are
    such a reason; a lock timeout, cancel, deadlock or serialization failure fails the run
    (retryable), or the block would apply with its write not kept."""
    try:
        with conn.transaction():  # a savepoint: the failed capture leaves nothing behind
            if spec.manual is None:
                # What its WHERE reads stays as it is now, before the rows are chosen.
                lock_reads(conn, spec.reads)
            pending = capture(
                conn, statement, number, item, spec, version=version, applied=applied,
                limits=limits,
            )  # fmt: skip
    except psycopg.Error as exc:
        if not _guarded(exc):
            raise
        base = CaptureRecord(
            statement=number, line=statement.location.line, kind=spec.kind, status="manual",
            table=".".join(spec.table),
        )  # fmt: skip
        said = exc.diag.message_primary or exc.sqlstate or type(exc).__name__
        return _refusal(base, f"DO block: its capture failed before the block ran ({said})")
    return pending


# SQLSTATE classes of an error in the capture's own text, which the block's guard may skip
# (42: undefined table/column/function, 22: a value that does not cast); any other error is
# the session's (55P03 lock timeout, 57014 cancel, 40P01 deadlock, 40001 serialization).
_GUARDED_CLASSES = frozenset({"42", "22"})


def _guarded(exc: psycopg.Error) -> bool:
    return (exc.sqlstate or "")[:2] in _GUARDED_CLASSES


def run_checked(
    conn: Connection,
    statement: Statement,
    pendings: list[PendingCapture],
    path: CatalogPath | None = None,
) -> list[CaptureRecord]:
    """Run the statement (rewritten when a capture needs its inserted keys), on its own
    search_path when the runner's is guarded, then check it touched exactly the captured rows."""
    text = next((p.rewritten for p in pendings if p.rewritten), statement.text)
    cur = path.run(text) if path is not None else conn.execute(text)
    for pending in pendings:
        check_statement(pending, cur.rowcount, conn)
    return [r for p in pendings for r in p.records]


def _refusal(base: CaptureRecord, reason: str) -> PendingCapture:
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
        return _refusal(base, spec.manual)
    oid = resolve_relation(conn, spec.table)
    if oid is None:
        return None  # the statement errors, or is a no-op with IF EXISTS: nothing to keep
    base.schema, base.table = relation_name(conn, oid)
    key = row_key(conn, oid) if spec.kind.needs_key else []
    edges = _edges_or_problem(conn, oid, spec, key)
    if isinstance(edges, str):
        return _refusal(base, edges)
    triggers = row_triggers(conn, oid, spec.kind)
    if isinstance(triggers, str):
        return _refusal(base, triggers)
    child_triggers = cascade_triggers(conn, edges)
    if isinstance(child_triggers, str):
        return _refusal(base, child_triggers)
    if triggers:  # they change the row's other columns too: keep whole rows
        base.detail = {"row_triggers": as_detail(triggers)}
        spec = replace(spec, columns=()) if spec.kind is CaptureKind.UPDATE else spec
    if spec.diff:
        why = too_big(conn, oid, limits.max_bytes)
        if why:
            return _refusal(base, why)
        base.detail = {**(base.detail or {}), DIFF: True}
    lock_against_writers(conn, oid, spec.kind)
    base.key = key

    def name(table: str, slot: int = item) -> str:
        return capture_table_name(version, number, slot, table, applied)

    base.capture_table = name(base.table)
    pending = PendingCapture(base, _keep(conn, statement, spec, oid, base, limits, version))
    for n, edge in enumerate(edges, start=1):
        slot = 1000 * (item + 1) + n  # the child's capture table: apart from the statement's own
        child_name = functools.partial(name, slot=slot)
        pending.cascaded.append(
            _capture_child(
                conn, edge, oid, pending, child_name, limits, version, child_triggers[edge.child]
            )
        )
    return pending


def _edges_or_problem(
    conn: Connection, oid: int, spec: CaptureSpec, key: list[str]
) -> list[Edge] | str:
    """Why the capture is refused, or the child rows a DELETE reaches (capture_cascade.py)."""
    problem = capture_problem(conn, oid, spec, key)
    if spec.kind is CaptureKind.UPSERT and not spec.diff:  # a table kept whole: keys read after
        problem = problem or before_row_triggers(conn, oid, [*spec.conflict, *key])
    if problem:
        return problem
    return reached(conn, oid) if spec.kind is CaptureKind.DELETE else []


def _keep(
    conn: Connection,
    statement: Statement,
    spec: CaptureSpec,
    oid: int,
    base: CaptureRecord,
    limits: CaptureLimits,
    version: str,
) -> str | None:
    """Create the capture table; for an INSERT, the statement rewritten to fill it."""
    chosen = captured_columns(conn, oid, spec, base.key)
    base.columns = [name for name, _ in chosen]
    base.types = [kind for _, kind in chosen]
    target = sql.Identifier(CAPTURE_SCHEMA, base.capture_table or "")
    if spec.kind is CaptureKind.INSERT:
        return prepare_insert(conn, statement, target, base)
    as_text = user_typed(conn, oid) - set(base.key)
    if spec.diff:
        base.rows = keep_whole(conn, target, base, as_text)
        _check_limits(conn, target, base, limits, version)
        return None
    if spec.kind is CaptureKind.UPSERT:
        rewritten = capture_upsert(conn, statement, spec, target, base, as_text)
        _check_limits(conn, target, base, limits, version)
        return rewritten
    cur = conn.execute(capture_query(target, spec, base, as_text))
    base.rows = max(cur.rowcount, 0)
    _check_limits(conn, target, base, limits, version)
    return None


def _capture_child(
    conn: Connection,
    edge: Edge,
    top: int,
    pending: PendingCapture,
    name: Callable[[str], str],
    limits: CaptureLimits,
    version: str,
    triggers: list[RowTrigger],
) -> CaptureRecord:
    """The rows of one child that reference a kept parent row (see capture_cascade.py); whole
    rows when the child has row triggers (they change its other columns too)."""
    parent = pending.record
    if edge.parent != top:
        parent = next(r for r in pending.cascaded if r.detail and r.detail["oid"] == edge.parent)
    schema, table = relation_name(conn, edge.child)
    lock_against_writers(conn, edge.child, CaptureKind.UPDATE)
    types = dict(live_columns(conn, edge.child))
    wanted = list(types) if edge.deletes or triggers else [*edge.key, *edge.child_columns]
    record = CaptureRecord(
        statement=parent.statement, line=parent.line, status="captured", schema=schema,
        table=table, kind=CaptureKind.DELETE if edge.deletes else CaptureKind.UPDATE,
        key=list(edge.key), columns=wanted, types=[types[c] for c in wanted],
        capture_table=name(table),
        detail={"oid": edge.child, "cascade_from": parent.target},
    )  # fmt: skip
    if triggers:
        record.detail = {**(record.detail or {}), "row_triggers": as_detail(triggers)}
    target = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
    as_text = user_typed(conn, edge.child) - set(edge.key)
    columns = sql.SQL(", ").join(kept_column("c", c, c in as_text) for c in wanted)
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
    if pending.after is not None:
        pending.after(conn)
    if record.status != "captured" or record.kind.keeps_definition:
        return
    if record.detail and record.detail.get(DIFF):  # the block ran: keep what it changed
        settle(conn, record)
        if record.status == "captured":
            target = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
            _check_limits(conn, target, record, CaptureLimits(), "")
        return
    if record.kind in (CaptureKind.INSERT, CaptureKind.UPSERT):
        target = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
        unkept = unkept_updates(conn, target) if record.kind is CaptureKind.UPSERT else 0
        if unkept:
            raise CaptureMismatchError(_unkept(record, unkept))
        # The rows inserted (an upsert's updated rows were counted when they were kept).
        record.rows = max(rowcount, 0) + (record.rows if record.kind is CaptureKind.UPSERT else 0)
        _check_limits(conn, target, record, CaptureLimits(), "")
        return
    exact = record.kind in (CaptureKind.UPDATE, CaptureKind.DELETE)
    if rowcount < 0 or not exact:
        if record.kind is CaptureKind.MERGE and rowcount > record.rows:
            raise CaptureMismatchError(_mismatch(record, rowcount))
        return
    if rowcount != record.rows:
        raise CaptureMismatchError(_mismatch(record, rowcount))


def _unkept(record: CaptureRecord, unkept: int) -> str:
    return (
        f"statement {record.statement} (line {record.line}) updated {unkept} row(s) of "
        f"{record.target} that were not captured before it (the server compared other values "
        "than the statement's constants: a trigger or a cast); the migration was rolled back: "
        "apply it with --no-capture"
    )


def _mismatch(record: CaptureRecord, rowcount: int) -> str:
    return (
        f"statement {record.statement} (line {record.line}) changed {rowcount} row(s) of "
        f"{record.target}, but {record.rows} were captured before it (a volatile WHERE, or a "
        "trigger); the migration was rolled back: make the statement deterministic, or apply "
        "it with --no-capture"
    )
