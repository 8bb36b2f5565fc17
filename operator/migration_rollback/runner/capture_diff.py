"""A DO block's UPDATEs whose rows are known only when it runs: keep the table, keep the difference.

capture_blocks.py captures a write of a DO block before the block only when its rows can be
told from its text. A backfill that loops (`FOR r IN SELECT ... LOOP UPDATE t SET ... WHERE
id = r.id`), or reads the block's variables, cannot. When every write of the block to a table is
an UPDATE, the table is kept whole before the block (the same UPDATE capture, with no WHERE),
and once the block ran the rows it left as they were are dropped from the capture: what stays
is exactly the prior state of the rows the block changed, restored as any UPDATE's capture is
(written back by key). Values are compared as text, so a value written again unchanged may be
kept: writing it back changes nothing.

It holds only if the block changed rows in place: a row of the table whose key is not in the
capture after the block (inserted, or its key changed) or a kept row no longer there (deleted)
makes it a MANUAL reason after all, and the capture is dropped. Keeping a whole table costs its
size: past `--capture-max-bytes` (or 256 MiB when no limit is given) it is a MANUAL reason
before the block runs.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CAPTURE_SCHEMA, CaptureRecord
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
    if added or gone:
        conn.execute(sql.SQL("DROP TABLE {}").format(kept))
        record.status, record.capture_table, record.rows, record.bytes = "manual", None, 0, 0
        record.reason = (
            f"DO block: it added {added} and removed {gone} row(s) of {record.target} (or "
            "changed their key): rows it did not update in place cannot be matched back"
        )
        return
    same = sql.SQL(" AND ").join(
        sql.SQL("c.{0}::text IS NOT DISTINCT FROM t.{0}::text").format(sql.Identifier(c))
        for c in record.columns
    )
    cur = conn.execute(
        sql.SQL("DELETE FROM {} c USING {} t WHERE {} AND {}").format(kept, table, key, same)
    )
    record.rows -= max(cur.rowcount, 0)


def _match(key: list[str]) -> sql.Composed:
    return sql.SQL(" AND ").join(sql.SQL("c.{0} = t.{0}").format(sql.Identifier(k)) for k in key)


def _count(conn: Connection, query: sql.Composed) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
