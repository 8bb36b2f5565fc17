"""What each kind of capture puts back, as SQL run inside the rollback's transaction.

One function per capture kind (see restore.py for the list): rows written back by key, rows put
back, inserted rows deleted, a dropped column refilled, a converted column's prior type and
exact values, a sequence set back. Each returns what it did, for the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.capture_triggers import from_detail, silenced, unsilence
from migration_rollback.runner.capture_upsert import restore_upsert
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.restore_conflicts import (
    conflict_query,
    key_match,
    not_conflicting,
    table_exists,
)
from migration_rollback.runner.restore_definitions import restore_definition
from migration_rollback.runner.session import Connection


def _column_type(conn: Connection, capture: Capture, column: str) -> str | None:
    row = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s AND attnum > 0 AND NOT attisdropped",
        [capture.target.as_string(conn), column],
    ).fetchone()
    return str(row[0]) if row else None


def _writable(
    conn: Connection, capture: Capture, columns: Sequence[str], *, insert: bool
) -> list[str]:
    """The columns that exist at this point of the rollback and take a written value: a
    generated column computes its values again, an identity column GENERATED ALWAYS takes one
    only in an INSERT (OVERRIDING SYSTEM VALUE)."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
        "AND NOT attisdropped AND attname = ANY(%s) AND attgenerated = '' "
        "AND (%s OR attidentity <> 'a')",
        [capture.target.as_string(conn), list(columns), insert],
    ).fetchall()
    found = {str(r[0]) for r in rows}
    return [c for c in columns if c in found]


def restore_one(conn: Connection, capture: Capture, on_conflict: str) -> str:
    """Put back what one capture kept, with the table's row triggers silenced (they would
    stamp the restored rows again, see capture_triggers.py); returns what was done."""
    if capture.kind is CaptureKind.SEQUENCE:
        return _restore_sequence(conn, capture)
    if capture.kind.keeps_definition:
        return restore_definition(conn, capture)
    if not table_exists(conn, capture):
        return "skipped: the table does not exist at this point of the rollback"
    silent = silenced(conn, capture.target, from_detail(capture.detail))
    note = _restore_rows(conn, capture, on_conflict)
    unsilence(conn, capture.target, silent)
    return note


def _restore_rows(conn: Connection, capture: Capture, on_conflict: str) -> str:
    if capture.kind is CaptureKind.INSERT:
        return _delete_inserted(conn, capture, on_conflict)
    if capture.kind is CaptureKind.UPSERT:
        live = _writable(conn, capture, capture.values, insert=False)
        return restore_upsert(conn, capture, live, on_conflict)
    if capture.kind is CaptureKind.ALTER_TYPE:
        return _restore_type(conn, capture, on_conflict)
    if capture.kind is CaptureKind.DROP_COLUMN:
        return _refill_column(conn, capture)
    if capture.kind is CaptureKind.UPDATE:
        return _write_back(conn, capture, capture.values, on_conflict)
    return _put_rows_back(conn, capture, on_conflict)


def _write_back(
    conn: Connection, capture: Capture, columns: Sequence[str], on_conflict: str
) -> str:
    live = _writable(conn, capture, columns, insert=False)
    if not live:
        return "skipped: no column here takes a written value (absent or generated)"
    query = sql.SQL("UPDATE {} t SET ({}) = ROW({}) FROM {} c WHERE {}{}").format(
        capture.target,
        sql.SQL(", ").join(sql.Identifier(c) for c in live),
        sql.SQL(", ").join(_kept(capture, c) for c in live),
        capture.kept,
        key_match(capture, "t", "c"),
        not_conflicting(conn, capture, "t", on_conflict),
    )
    cur = conn.execute(query)
    return f"{cur.rowcount} row(s) written back"


def _kept(capture: Capture, column: str) -> sql.Composable:
    """A kept value as the column's recorded type (values of user-defined types are kept as
    text, see capture_table.user_typed; for the others the cast changes nothing)."""
    return sql.SQL("c.{}::{}").format(sql.Identifier(column), sql.SQL(capture.type_of(column)))


def _put_rows_back(conn: Connection, capture: Capture, on_conflict: str) -> str:
    done = []
    missing: sql.Composable = sql.SQL("")
    if capture.key:
        if on_conflict == "restore-captured" or capture.kind is CaptureKind.MERGE:
            values = capture.values
            if values:
                done.append(_write_back(conn, capture, values, on_conflict))
        missing = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})").format(
            capture.target, key_match(capture, "t", "c")
        )
    live = _writable(conn, capture, capture.columns, insert=True)
    if not live:
        return "skipped: no column here takes a written value (absent or generated)"
    cur = conn.execute(
        sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} c{}").format(
            capture.target,
            sql.SQL(", ").join(sql.Identifier(c) for c in live),
            sql.SQL(", ").join(_kept(capture, c) for c in live),
            capture.kept,
            missing,
        )
    )
    done.append(f"{cur.rowcount} row(s) put back")
    return "; ".join(done)


def _delete_inserted(conn: Connection, capture: Capture, on_conflict: str) -> str:
    cur = conn.execute(
        sql.SQL("DELETE FROM {} t USING {} c WHERE {}{}").format(
            capture.target,
            capture.kept,
            key_match(capture, "t", "c"),
            not_conflicting(conn, capture, "t", on_conflict),
        )
    )
    return f"{cur.rowcount} inserted row(s) deleted"


def _refill_column(conn: Connection, capture: Capture) -> str:
    column = capture.columns[-1]
    notes = []
    if _column_type(conn, capture, column) is None:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                capture.target, sql.Identifier(column), sql.SQL(capture.type_of(column))
            )
        )
        notes.append(f"column {column} re-added as {capture.type_of(column)}")
    notes.append(_write_back(conn, capture, [column], "restore-captured"))
    return "; ".join(notes)


def _restore_type(conn: Connection, capture: Capture, on_conflict: str) -> str:
    """The prior type with the exact prior values, in one table rewrite."""
    column = capture.columns[-1]
    prior = capture.type_of(column)
    current = _column_type(conn, capture, column)
    if current is None:
        return "skipped: the column does not exist at this point of the rollback"
    if current == prior:  # the rollback SQL already converted it back: fix the values
        return _write_back(conn, capture, [column], on_conflict)
    function = sql.Identifier(f"migration_rollback_prior_{capture.id}")
    _lookup_function(conn, capture, column, prior, function, on_conflict)
    conn.execute(
        sql.SQL("CREATE INDEX ON {} ({})").format(
            capture.kept, sql.SQL(", ").join(sql.Identifier(k) for k in capture.key)
        )
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING pg_temp.{}({}, {}::text)").format(
            capture.target,
            sql.Identifier(column),
            sql.SQL(prior),
            function,
            sql.SQL(", ").join(sql.Identifier(k) for k in capture.key),
            sql.Identifier(column),
        )
    )
    conn.execute(sql.SQL("DROP FUNCTION pg_temp.{}").format(function))
    return f"type {current} -> {prior}, {capture.rows} captured value(s) restored exactly"


def _lookup_function(
    conn: Connection,
    capture: Capture,
    column: str,
    prior: str,
    function: sql.Identifier,
    on_conflict: str,
) -> None:
    """pg_temp.f(key..., current::text) -> the captured value, or the current one cast back.

    USING cannot hold a subquery, but it can call a function that looks the value up.
    """
    keys = list(capture.key)
    arguments = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f"k_{i}"), sql.SQL(capture.type_of(k)))
        for i, k in enumerate(keys)
    )
    match = sql.SQL(" AND ").join(
        sql.SQL("c.{} = {}").format(sql.Identifier(k), sql.Identifier(f"k_{i}"))
        for i, k in enumerate(keys)
    )
    skip: sql.Composable = sql.SQL("")
    if on_conflict == "keep-current" and conflict_query(capture) is not None:
        skip = not_conflicting(conn, capture, "c", on_conflict)
    body = sql.SQL(
        "DECLARE kept {prior}; BEGIN SELECT c.{col}::{prior} INTO kept FROM {table} c "
        "WHERE {match}{skip}; "
        "IF FOUND THEN RETURN kept; END IF; RETURN current_value::{prior}; END"
    ).format(
        prior=sql.SQL(prior),
        col=sql.Identifier(column),
        table=capture.kept,
        match=match,
        skip=skip,
    )
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION pg_temp.{}({}, current_value text) RETURNS {} LANGUAGE plpgsql "
            "STABLE AS {}"
        ).format(function, arguments, sql.SQL(prior), sql.Literal(body.as_string(conn)))
    )


def _restore_sequence(conn: Connection, capture: Capture) -> str:
    detail = capture.detail or {}
    sequence = sql.Identifier(capture.schema, capture.table)
    row = conn.execute(
        "SELECT last_value FROM pg_sequences WHERE schemaname = %s AND sequencename = %s",
        [capture.schema, capture.table],
    ).fetchone()
    if row is None:
        return "skipped: the sequence does not exist"
    if row[0] != detail.get("after"):
        return f"left at {row[0]}: used since the migration (it moved it to {detail.get('after')})"
    before = detail.get("before")
    if before is None:
        conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sequence))
        return "restarted (it had never been used before the migration)"
    conn.execute(
        sql.SQL("SELECT setval({}, %s, true)").format(sql.Literal(sequence.as_string(conn))),
        [before],
    )
    return f"set back to {before}"
