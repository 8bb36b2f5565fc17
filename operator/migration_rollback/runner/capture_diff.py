"""A DO block's writes whose rows are known only when it runs: keep the table, keep the difference.

capture_blocks.py captures a write of a DO block before the block only when its rows can be
told from its text. A backfill that loops (`FOR r IN SELECT ... LOOP UPDATE t SET ... WHERE
id = r.id`), reads the block's variables, or a seed that INSERTs in a loop, cannot. When every
write of the block to a table is an UPDATE or an INSERT, the table is kept whole before the
block (locked against writers), and once the block ran the rows it left as they were are
dropped from the capture, and the keys of the rows it added are kept: what stays is exactly the
prior state of the rows the block changed, and which rows it added. It is restored as an
UPDATE's capture is (written back by key), or as an upsert's when the block inserts (the added
rows deleted by key, capture_upsert.py). Values are compared as text, so a value written again
unchanged may be kept: writing it back changes nothing.

It holds only if the block changed rows in place or added them: a kept row no longer there
(deleted, or its key changed), or an added row of a block that only UPDATEs, makes it a MANUAL
reason after all, and the capture is dropped. Keeping a whole table costs its size: past
`--capture-max-bytes` (or 256 MiB when no limit is given) it is a MANUAL reason before the
block runs.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CAPTURE_SCHEMA, CaptureRecord
from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.capture_table import kept_column
from migration_rollback.runner.capture_upsert import INSERTED
from migration_rollback.runner.session import Connection

DIFF = "diff"  # the detail key of such a capture record
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def too_big(conn: Connection, oid: int, max_bytes: int | None) -> str | None:
    """Why the table is not kept whole before the block (None: it is small enough)."""
    row = conn.execute("SELECT pg_total_relation_size(%s)", [oid]).fetchone()
    size = int(row[0]) if row and row[0] is not None else 0
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    if size <= limit:
        return None
    given = "--capture-max-bytes" if max_bytes is not None else "the default when no limit is given"
    return (
        f"DO block: which rows it updates is known only when it runs, and keeping the whole "
        f"table takes {size} bytes, more than {limit} ({given})"
    )


def keep_whole(
    conn: Connection, target: sql.Identifier, record: CaptureRecord, as_text: set[str]
) -> int:
    """Every row of the table, before the block; marked as prior when the block may insert
    (capture_upsert.py's marker). Returns how many."""
    columns = [kept_column("", c, c in as_text) for c in record.columns]
    if record.kind is CaptureKind.UPSERT:
        columns.append(sql.SQL("false AS {}").format(sql.Identifier(INSERTED)))
    cur = conn.execute(
        sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
            target, sql.SQL(", ").join(columns), sql.Identifier(record.schema, record.table)
        )
    )
    return max(cur.rowcount, 0)


def settle(conn: Connection, record: CaptureRecord) -> None:
    """After the block: keep only the rows it changed, or make the record a MANUAL reason."""
    kept = sql.Identifier(CAPTURE_SCHEMA, record.capture_table or "")
    table = sql.Identifier(record.schema, record.table)
    key = _match(record.key)
    added = _count(
        conn,
        sql.SQL("SELECT count(*) FROM {} t WHERE NOT EXISTS ({})").format(
            table, sql.SQL("SELECT FROM {} c WHERE {}").format(kept, key)
        ),
    )
    gone = _count(
        conn,
        sql.SQL("SELECT count(*) FROM {} c WHERE NOT EXISTS ({})").format(
            kept, sql.SQL("SELECT FROM {} t WHERE {}").format(table, key)
        ),
    )
    inserts = record.kind is CaptureKind.UPSERT
    if gone or (added and not inserts):
        conn.execute(sql.SQL("DROP TABLE {}").format(kept))
        record.status, record.capture_table, record.rows, record.bytes = "manual", None, 0, 0
        record.reason = (
            f"DO block: it added {added} and removed {gone} row(s) of {record.target} (or "
            "changed their key): rows it did not update in place or insert cannot be matched back"
        )
        return
    if added:  # their keys, while the capture still holds every prior row to tell them by
        _keep_added(conn, kept, table, record.key)
    same = sql.SQL(" AND ").join(
        sql.SQL("c.{0}::text IS NOT DISTINCT FROM t.{0}::text").format(sql.Identifier(c))
        for c in record.columns
    )
    prior = sql.SQL(" AND NOT c.{}").format(sql.Identifier(INSERTED)) if inserts else sql.SQL("")
    cur = conn.execute(
        sql.SQL("DELETE FROM {} c USING {} t WHERE {} AND {}{}").format(
            kept, table, key, same, prior
        )
    )
    record.rows += added - max(cur.rowcount, 0)


def _keep_added(
    conn: Connection, kept: sql.Identifier, table: sql.Identifier, key: list[str]
) -> None:
    """The keys of the rows the block added, marked as inserted (capture_upsert.py)."""
    names = sql.SQL(", ").join(sql.Identifier(k) for k in key)
    conn.execute(
        sql.SQL("INSERT INTO {} ({}, {}) SELECT {} FROM {} t WHERE NOT EXISTS ({})").format(
            kept,
            names,
            sql.Identifier(INSERTED),
            sql.SQL(", ").join(
                [*(sql.SQL("t.{}").format(sql.Identifier(k)) for k in key), sql.SQL("true")]
            ),
            table,
            sql.SQL("SELECT FROM {} c WHERE {}").format(kept, _match(key)),
        )
    )


def _match(key: list[str]) -> sql.Composed:
    return sql.SQL(" AND ").join(sql.SQL("c.{0} = t.{0}").format(sql.Identifier(k)) for k in key)


def _count(conn: Connection, query: sql.Composed) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
