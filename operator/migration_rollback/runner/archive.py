"""Keep the data a rollback would destroy: tables move to an archive schema, columns are copied.

A `DROP TABLE` becomes `ALTER TABLE ... RENAME` + `SET SCHEMA migration_rollback_archive`:
constant time whatever the size, and the rows, indexes and owned sequences stay intact. To
behave like the DROP it replaces, the statement itself is first run and undone inside a
savepoint (so a missing table without IF EXISTS, or dependents without CASCADE, fail exactly as
written), and what a DROP would have removed from the *live* schema goes: foreign keys to and
from the table, dependent views (CASCADE), triggers, policies, column defaults and publication
membership. The archived table is inert data; anything else still depending on it is reported.
It is then cut from the live functions and types it used (archive_inert.py), so that the same
rollback can drop them; the verifier's round trip archives the same way (verify/as_runner.py).
What the DROP would have removed from the live schema is in archive_detach.py; a dropped
column is copied out first (archive_columns.py). Everything happens inside the run's
transaction, so a dry run or a failure leaves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from migration_rollback.runner.archive_detach import (
    detach_from_live_schema,
    drop_dependent_views,
    drop_inbound_foreign_keys,
    remaining_dependents,
)
from migration_rollback.runner.archive_inert import make_inert
from migration_rollback.runner.impact import EXACT_COUNT_BELOW, UNANALYSED_COUNT_MAX_BYTES
from migration_rollback.runner.naming import (
    ARCHIVE_SCHEMA,
    archived_table_name,
    collision_free_name,
)
from migration_rollback.runner.plan import PlannedStatement
from migration_rollback.runner.relations import relation_name, resolve_relation
from migration_rollback.runner.result import ArchivedObject
from migration_rollback.runner.session import Connection

_PROBE = sql.Identifier("migration_rollback_probe")
_COUNT = sql.Identifier("migration_rollback_count")


@dataclass
class ArchiveOutcome:
    archived: list[ArchivedObject] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    moved_oids: list[int] = field(default_factory=list)
    copied_columns: list[tuple[int, int]] = field(default_factory=list)


def ensure_archive_schema(conn: Connection) -> None:
    with conn.pipeline():  # statements whose answers decide nothing: one round trip
        schema = sql.Identifier(ARCHIVE_SCHEMA)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        conn.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                schema,
                sql.Literal(
                    "Data set aside by migration-rollback instead of being dropped; "
                    "see migration_rollback.audit_log"
                ),
            )
        )


def count_rows(conn: Connection, oid: int) -> int | None:
    """Rows of an archived table, for the record: exact when cheap, else the estimate.

    Counted inside a savepoint, so that a count cut short by statement_timeout costs the
    run nothing but the number.
    """
    row = conn.execute(
        "SELECT c.reltuples::bigint, pg_relation_size(c.oid), n.nspname, c.relname "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
        [oid],
    ).fetchone()
    if row is None:
        raise LookupError(f"relation {oid} vanished")
    estimate = int(row[0]) if row[0] is not None else -1
    size = int(row[1]) if row[1] is not None else 0
    if estimate >= EXACT_COUNT_BELOW or (estimate < 0 and size > UNANALYSED_COUNT_MAX_BYTES):
        return estimate if estimate >= 0 else None
    table = sql.Identifier(str(row[2]), str(row[3]))
    try:
        with conn.pipeline():  # a cancelled count skips the RELEASE: rolled back to below
            conn.execute(sql.SQL("SAVEPOINT {}").format(_COUNT))
            cursor = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
            conn.execute(sql.SQL("RELEASE SAVEPOINT {}").format(_COUNT))
    except psycopg.errors.QueryCanceled:
        conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_COUNT))
        return estimate if estimate >= 0 else None
    counted = cursor.fetchone()
    return int(counted[0]) if counted else None


# --- DROP TABLE -> archive ---------------------------------------------------------------


def archive_tables(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Carry out a `DROP TABLE` by moving its tables into the archive schema."""
    outcome = ArchiveOutcome()
    _probe(conn, planned.sql)
    roots = [oid for oid in (resolve_relation(conn, n) for n in planned.tables) if oid is not None]
    if not roots:
        return outcome  # DROP TABLE IF EXISTS of tables that are not there: a no-op, as written.
    members = _with_descendants(conn, roots)
    ensure_archive_schema(conn)
    if planned.cascade:
        outcome.dependents += drop_inbound_foreign_keys(conn, members)
        outcome.dependents += drop_dependent_views(conn, members)
    outcome.dependents += detach_from_live_schema(conn, members)
    for oid in members:
        outcome.archived.append(_move(conn, oid, planned, when))
        outcome.moved_oids.append(oid)
    outcome.dependents += make_inert(conn, members)
    outcome.dependents += [
        f"{what} still depends on archived {', '.join(a.archive for a in outcome.archived)}"
        for what in remaining_dependents(conn, members)
    ]
    return outcome


def _probe(conn: Connection, statement: str) -> None:
    """Run the original DROP and undo it: it fails (or is a no-op) exactly as it would."""
    with conn.pipeline():  # one round trip; a failing DROP raises here, as run alone
        conn.execute(sql.SQL("SAVEPOINT {}").format(_PROBE))
        conn.execute(statement)
        conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_PROBE))
        conn.execute(sql.SQL("RELEASE SAVEPOINT {}").format(_PROBE))


def _with_descendants(conn: Connection, roots: list[int]) -> list[int]:
    """The tables and their partitions / inheritance children (a DROP removes those too)."""
    rows = conn.execute(
        """
        WITH RECURSIVE tree(oid, depth) AS (
          SELECT unnest(%s::oid[]), 0
          UNION
          SELECT i.inhrelid, t.depth + 1 FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
        SELECT oid FROM tree GROUP BY oid ORDER BY min(depth), oid
        """,
        [roots],
    ).fetchall()
    return [int(r[0]) for r in rows]


def _move(conn: Connection, oid: int, planned: PlannedStatement, when: datetime) -> ArchivedObject:
    schema, name = relation_name(conn, oid)
    new_name = free_archive_name(conn, archived_table_name(name, planned.version, when))
    _rename_clashing_parts(conn, oid, new_name)
    _relocate(conn, (schema, name), new_name, planned, when)
    return ArchivedObject(
        kind="table",
        source=f"{schema}.{name}",
        archive=f"{ARCHIVE_SCHEMA}.{new_name}",
        statement=planned.number,
        rows=count_rows(conn, oid),
        restore_hint=_table_restore_hint(conn, schema, name, new_name),
    )


def _relocate(
    conn: Connection,
    table: tuple[str, str],
    new_name: str,
    planned: PlannedStatement,
    when: datetime,
) -> None:
    """Rename the table into the archive schema, with a comment saying where it came from."""
    schema, name = table
    with conn.pipeline():  # one round trip for the three
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(schema, name), sql.Identifier(new_name)
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(schema, new_name), sql.Identifier(ARCHIVE_SCHEMA)
            )
        )
        conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                sql.Identifier(ARCHIVE_SCHEMA, new_name),
                sql.Literal(
                    f"{schema}.{name}, archived by migration-rollback instead of DROP TABLE "
                    f"(rollback of {planned.version}, {when.isoformat()})"
                ),
            )
        )


def _table_restore_hint(conn: Connection, schema: str, name: str, new_name: str) -> str:
    return (
        sql.SQL("ALTER TABLE {} SET SCHEMA {}; ALTER TABLE {} RENAME TO {};")
        .format(
            sql.Identifier(ARCHIVE_SCHEMA, new_name),
            sql.Identifier(schema),
            sql.Identifier(schema, new_name),
            sql.Identifier(name),
        )
        .as_string(conn)
    )


# Whether a name is taken in the archive schema, by a relation or a type. Its own aliases
# (`ac`, `ty`), so it can sit inside a query that has a `c` of its own.
_IN_ARCHIVE = sql.SQL("""
SELECT 1 FROM pg_class ac JOIN pg_namespace an ON an.oid = ac.relnamespace
WHERE an.nspname = %(archive)s AND ac.relname = {0}
UNION ALL SELECT 1 FROM pg_type ty JOIN pg_namespace tn ON tn.oid = ty.typnamespace
WHERE tn.nspname = %(archive)s AND ty.typname = {0}
""")


def _exists_in_archive(conn: Connection, name: str) -> bool:
    query = _IN_ARCHIVE.format(sql.Placeholder("name"))
    row = conn.execute(query, {"archive": ARCHIVE_SCHEMA, "name": name}).fetchone()
    return row is not None


def free_archive_name(conn: Connection, name: str) -> str:
    candidate = name
    attempt = 0
    while _exists_in_archive(conn, candidate):
        attempt += 1
        candidate = collision_free_name(name, f"{name}#{attempt}")
    return candidate


# A table's indexes and owned sequences, each with whether its name is taken in the archive:
# one round trip, whatever their number.
_PARTS = sql.SQL("""
SELECT n.nspname, part.relname, part.relkind, EXISTS ({0})
FROM pg_class part JOIN pg_namespace n ON n.oid = part.relnamespace
WHERE part.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %(table)s)
   OR part.oid IN (SELECT d.objid FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass
                     AND d.refclassid = 'pg_class'::regclass
                     AND d.refobjid = %(table)s AND d.deptype IN ('a', 'i'))
      AND part.relkind = 'S'
""").format(_IN_ARCHIVE.format(sql.Identifier("part", "relname")))


def _rename_clashing_parts(conn: Connection, oid: int, owner: str) -> None:
    """Indexes and owned sequences move with the table; rename any whose name is taken there."""
    parts = conn.execute(_PARTS, {"table": oid, "archive": ARCHIVE_SCHEMA}).fetchall()
    for schema, relname, relkind, taken in parts:
        if not taken:
            continue
        new_name = free_archive_name(conn, collision_free_name(relname, owner))
        kind = sql.SQL("INDEX" if relkind in ("i", "I") else "SEQUENCE")
        conn.execute(
            sql.SQL("ALTER {} {} RENAME TO {}").format(
                kind, sql.Identifier(schema, relname), sql.Identifier(new_name)
            )
        )
