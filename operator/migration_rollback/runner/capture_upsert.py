"""`INSERT ... ON CONFLICT DO UPDATE`: keep the rows it may update, and the keys it inserts.

One statement both overwrites existing rows and adds new ones, so one capture table holds both:
before it runs, every existing row whose conflict columns hold one of the inserted constants
(capture_plan.py only accepts constants: evaluated again they give the same rows), whole and
marked as prior; the statement itself is rewritten to add the keys it returns that were not
there before, marked as inserted. The rollback deletes the inserted rows and writes the prior
ones back by key. A conflicting row the DO UPDATE's WHERE skips is kept too: writing back its
unchanged values changes nothing.

Whether a returned row was inserted is asked of the server (`xmax = 0`), not inferred from
the keys kept: an updated row that was not kept (the server compared other values than the
constants, e.g. a BEFORE INSERT trigger changed them) is marked neither way, and fails the
check after the statement instead of being deleted by the rollback. Tables with such triggers
are refused before (capture_triggers.before_row_triggers). The table lock taken before the
capture (capture_table.lock_against_writers) keeps the rows still until the statement runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_plan import CaptureSpec, returning_insert
from migration_rollback.runner.capture_table import kept_column
from migration_rollback.runner.restore_captures import Capture
from migration_rollback.runner.restore_conflicts import key_match, not_conflicting
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement

INSERTED = "migration_rollback_inserted"  # the marker column of the capture table


def capture_upsert(
    conn: Connection,
    statement: Statement,
    spec: CaptureSpec,
    target: sql.Identifier,
    record: CaptureRecord,
    as_text: set[str],
) -> str:
    """Keep the rows that would conflict; returns the statement rewritten to add its keys."""
    types = dict(zip(record.columns, record.types, strict=True))
    names = [sql.Identifier(f"c{i}") for i in range(len(spec.conflict))]
    # The constants cast to the column's type, as the INSERT assigns them before comparing.
    values = [
        sql.SQL("s.{}::{}").format(n, sql.SQL(types[c]))
        for n, c in zip(names, spec.conflict, strict=True)
    ]
    cur = conn.execute(
        sql.SQL(
            "CREATE TABLE {} AS SELECT {}, false AS {} FROM {} t "
            "WHERE ({}) IN (SELECT {} FROM ({}) s({}))"
        ).format(
            target,
            sql.SQL(", ").join(kept_column("t", c, c in as_text) for c in record.columns),
            sql.Identifier(INSERTED),
            sql.Identifier(record.schema, record.table),
            _list("t", spec.conflict),
            sql.SQL(", ").join(values),
            sql.SQL(spec.conflict_values or ""),
            sql.SQL(", ").join(names),
        )
    )
    record.rows = max(cur.rowcount, 0)
    return _rewritten(conn, statement, target, record.key)


def _list(alias: str, columns: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c)) for c in columns
    )


def _match(left: str, right: str, key: Sequence[str]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k)
        )
        for k in key
    )


def _rewritten(
    conn: Connection, statement: Statement, target: sql.Identifier, key: list[str]
) -> str:
    """`WITH x AS (<the upsert> RETURNING <key>, xmax = 0) INSERT INTO <capture> ...` the keys
    that were not kept before it: the rows it inserted, marked true; an updated row not kept,
    marked NULL (see `unkept_updates`)."""
    query = sql.SQL(
        "WITH x AS ({}) INSERT INTO {} ({}, {}) SELECT {}, CASE WHEN x.{} THEN true END FROM x "
        "WHERE NOT EXISTS (SELECT 1 FROM {} c WHERE {})"
    ).format(
        sql.SQL(returning_insert(statement, key, INSERTED)),
        target,
        sql.SQL(", ").join(sql.Identifier(k) for k in key),
        sql.Identifier(INSERTED),
        _list("x", key),
        sql.Identifier(INSERTED),
        target,
        _match("c", "x", key),
    )
    return query.as_string(conn)


def unkept_updates(conn: Connection, target: sql.Identifier) -> int:
    """The rows the upsert updated that were not kept before it (their prior values are lost:
    the statement must not stand)."""
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(target, sql.Identifier(INSERTED))
    ).fetchone()
    return int(row[0]) if row else 0


def restore_upsert(conn: Connection, capture: Capture, columns: list[str], on_conflict: str) -> str:
    """Delete the rows it inserted, then write the prior values of the rows it updated back
    (`columns`: the kept columns that exist here and take a written value)."""
    marker = sql.SQL("c.{}").format(sql.Identifier(INSERTED))
    skip = not_conflicting(conn, capture, "t", on_conflict)
    match = key_match(capture, "t", "c")
    deleted = conn.execute(
        sql.SQL("DELETE FROM {} t USING {} c WHERE {} AND {}{}").format(
            capture.target, capture.kept, match, marker, skip
        )
    ).rowcount
    if not columns:
        return f"{deleted} inserted row(s) deleted"
    prior = [
        sql.SQL("c.{}::{}").format(sql.Identifier(c), sql.SQL(capture.type_of(c))) for c in columns
    ]
    written = conn.execute(
        sql.SQL("UPDATE {} t SET ({}) = ROW({}) FROM {} c WHERE {} AND NOT {}{}").format(
            capture.target,
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join(prior),
            capture.kept,
            match,
            marker,
            skip,
        )
    ).rowcount
    return f"{deleted} inserted row(s) deleted; {written} row(s) written back"
