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

The verifier archives every table its rollbacks drop, so a DROP costs a round trip per stage,
not per object: the probe; the detach's reads with the first table's names; each move, with the
detach's statements before it and its count and the next stage's reads after it; make_inert's
changes with the read of what still depends on the archive. On the verifier's session the reads
are prepared statements (prepared.py), and each round trip is one message (trip.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from psycopg import sql

from migration_rollback.runner import prepared
from migration_rollback.runner.archive_count import count_rows as count_rows  # its old home
from migration_rollback.runner.archive_count import counted_after
from migration_rollback.runner.archive_detach import (
    dependents,
    drop_dependent_views,
    drop_inbound_foreign_keys,
    queue_detach_reads,
    queue_remaining_dependents,
    wholesale_publications_query,
)
from migration_rollback.runner.archive_inert import (
    TIES,
    PendingInert,
    Tie,
    queue_changes,
    queue_inert_reads,
)
from migration_rollback.runner.naming import (
    ARCHIVE_SCHEMA,
    archived_table_name,
    collision_free_name,
)
from migration_rollback.runner.plan import PlannedStatement
from migration_rollback.runner.relations import regclass_text
from migration_rollback.runner.result import ArchivedObject
from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip, trip

_PROBE = sql.Identifier("migration_rollback_probe")
_PROBE_SAVEPOINT = sql.SQL("SAVEPOINT {}").format(_PROBE).as_string(None)
_PROBE_UNDONE = tuple(
    sql.SQL(undo).format(_PROBE).as_string(None)
    for undo in ("ROLLBACK TO SAVEPOINT {}", "RELEASE SAVEPOINT {}")
)
T = TypeVar("T")


@dataclass
class ArchiveOutcome:
    archived: list[ArchivedObject] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    moved_oids: list[int] = field(default_factory=list)
    copied_columns: list[tuple[int, int]] = field(default_factory=list)


@functools.cache
def archive_schema_statements() -> tuple[str, ...]:
    """What makes the archive schema (when missing): their answers decide nothing, so callers
    send them in the round trip of what follows. Written once (psycopg.sql is slow).

    Only when missing, in one block: `CREATE SCHEMA IF NOT EXISTS` asks for CREATE on the
    database even when the schema is there, and `COMMENT ON SCHEMA` for its ownership. A
    schema of that name that this role may not create in (made by another role) is named, with
    the GRANT that fixes it, before a table is moved: not a bare "permission denied"."""
    schema = sql.Identifier(ARCHIVE_SCHEMA)
    name = sql.Literal(ARCHIVE_SCHEMA)
    comment = sql.Literal(
        "Data set aside by migration-rollback instead of being dropped; "
        "see migration_rollback.audit_log"
    )
    block = sql.SQL(
        """DO $migration_rollback$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace
                 WHERE nspname OPERATOR(pg_catalog.=) {name}) THEN
    CREATE SCHEMA {schema};
    COMMENT ON SCHEMA {schema} IS {comment};
  ELSIF NOT pg_catalog.has_schema_privilege({name}, 'CREATE') THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = pg_catalog.format(
      'the archive schema %s exists (owned by %s) but role %s may not create in it: an '
      'owner runs GRANT USAGE, CREATE ON SCHEMA %s TO %s', {name},
      (SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace
       WHERE nspname OPERATOR(pg_catalog.=) {name}),
      current_user, {name}, pg_catalog.quote_ident(current_user));
  END IF;
END $migration_rollback$"""
    ).format(schema=schema, name=name, comment=comment)
    return (block.as_string(None),)


def ensure_archive_schema(conn: Connection) -> None:
    with conn.pipeline():  # one round trip
        for statement in archive_schema_statements():
            conn.execute(statement)


# --- DROP TABLE -> archive ---------------------------------------------------------------


def archive_tables(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Carry out a `DROP TABLE` by moving its tables into the archive schema."""
    outcome = ArchiveOutcome()
    found = _probe(conn, planned)
    if not found.members:
        return outcome  # DROP TABLE IF EXISTS of tables that are not there: a no-op, as written.
    members = [oid for oid, _ in found.members]
    if planned.cascade:
        ensure_archive_schema(conn)  # first, as ever; else it goes with the detach's reads
        outcome.dependents += drop_inbound_foreign_keys(conn, members)
        outcome.dependents += drop_dependent_views(conn, members)
    first_oid, (_, first_name) = found.members[0]
    first_wanted = archived_table_name(first_name, planned.version, when)
    with trip(conn) as reads:  # the detach's reads and the first table's names: one round trip
        for statement in () if planned.cascade else archive_schema_statements():
            reads.execute(statement)
        with prepared.generic_plans(reads):
            detach = queue_detach_reads(reads, members, wholesale=found.wholesale)
            names = _queue_names(reads, first_oid, first_wanted)
    ahead, notes = detach.planned()  # run in the first move's round trip, before it
    outcome.dependents += notes
    first: _FirstMove | None = _FirstMove(names, ahead)
    *moved, last = found.members
    for member in moved:
        outcome.archived.append(_move(conn, member, (planned, when), first, lambda _: None)[0])
        first = None  # each next table reads its names after the moves before it
    archived, queued = _move(
        conn, last, (planned, when), first, lambda sent: _queue_last(sent, members, found.ties)
    )
    outcome.archived.append(archived)
    outcome.moved_oids += members
    notes, remaining = _finish_last(conn, members, queued)
    outcome.dependents += notes
    outcome.dependents += [
        f"{what} still depends on archived {', '.join(a.archive for a in outcome.archived)}"
        for what in dependents(remaining)
    ]
    return outcome


def _queue_last(sent: Trip, members: list[int], ties: set[Tie]) -> PendingInert | Fetched:
    """Sent after the last move, in its round trip: the reads of `make_inert`; else (nothing
    for it to change) already the read of what still depends on the archived tables."""
    with prepared.generic_plans(sent):
        if ties:
            return queue_inert_reads(sent, members, ties)
        return queue_remaining_dependents(sent, members)


def _finish_last(
    conn: Connection, members: list[int], queued: PendingInert | Fetched
) -> tuple[list[str], Fetched]:
    """What `make_inert` did, and the read of what still depends on the archive after it."""
    if not isinstance(queued, PendingInert):
        return [], queued
    changes = queued.changes()
    with trip(conn) as sent:  # the changes, then that read: one round trip
        queue_changes(sent, changes)
        with prepared.generic_plans(sent):
            remaining = queue_remaining_dependents(sent, members)
    return changes.notes, remaining


Member = tuple[int, tuple[str, str]]  # a table the DROP removes: oid, (schema, name)

# The tables a DROP names (resolved as `to_regclass` resolves them) and their partitions /
# inheritance children (a DROP removes those too), parents first, each with its name and the
# kinds of tie to live objects it holds (archive_inert.py; detaching and moving add none).
_MEMBERS = sql.SQL("""
WITH RECURSIVE tree(oid, depth) AS (
  SELECT r.oid, 0 FROM (SELECT pg_catalog.to_regclass(n)::oid AS oid
                        FROM pg_catalog.unnest(%s::pg_catalog.text[]) AS n) r
  WHERE r.oid IS NOT NULL
  UNION
  SELECT i.inhrelid, t.depth + 1 FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
SELECT member.oid, n.nspname, c.relname, {ties}
FROM (SELECT oid, min(depth) AS depth FROM tree GROUP BY oid) member
JOIN pg_class c ON c.oid = member.oid JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY member.depth, member.oid
""").format(ties=sql.SQL(", ").join(TIES[tie].format(sql.SQL("member.oid")) for tie in Tie))
_MEMBERS_READ = prepared.read(_MEMBERS, ("", "text[]"))


@dataclass
class _Found:
    """What the probe of a DROP found: the tables it removes, the ties they hold, whether a
    publication may take them unnamed."""

    members: list[Member]
    ties: set[Tie]
    wholesale: bool


def _probe(conn: Connection, planned: PlannedStatement) -> _Found:
    """Run the original DROP and undo it: it fails (or is a no-op) exactly as it would. Then
    what it removes."""
    names = [regclass_text(conn, name) for name in planned.tables]
    with trip(conn) as probe:  # one round trip; a failing DROP raises here, as run alone
        prepared.prepare(probe)
        for statement in (_PROBE_SAVEPOINT, planned.sql, *_PROBE_UNDONE):
            probe.execute(statement)
        with prepared.generic_plans(probe):
            members = prepared.execute(probe, _MEMBERS_READ, [names])
            wholesale = probe.execute(wholesale_publications_query(conn))
    rows = members.fetchall()
    published = wholesale.fetchone()
    return _Found(
        [(int(row[0]), (str(row[1]), str(row[2]))) for row in rows],
        {tie for row in rows for tie, held in zip(Tie, row[3:], strict=True) if held},
        bool(published and published[0]),
    )


@dataclass
class _FirstMove:
    """What the first table's move needs, sent in an earlier round trip: its names' reads,
    and the statements that go before it (the detach's)."""

    names: _Names
    ahead: list[sql.Composed]


def _move(
    conn: Connection,
    member: Member,
    why: tuple[PlannedStatement, datetime],
    first: _FirstMove | None,
    then: Callable[[Trip], T],
) -> tuple[ArchivedObject, T]:
    """Move one table into the archive. `first`: what was read for it, and what goes before
    it, when it is the first; `then` sends reads that go in the move's round trip, after it."""
    oid, (schema, name) = member
    planned, when = why
    wanted = archived_table_name(name, planned.version, when)
    if first is None:
        with trip(conn) as reads:  # the name's and the parts' reads in one round trip
            first = _FirstMove(_queue_names(reads, oid, wanted), [])
    new_name = first.names.free_name(conn, wanted)
    ahead = first.ahead
    rows, queued = counted_after(
        conn,
        oid,
        sql.Identifier(ARCHIVE_SCHEMA, new_name),
        lambda sent: _queue_relocation(sent, (member, new_name), why, ahead, then),
    )
    archived = ArchivedObject(
        kind="table",
        source=f"{schema}.{name}",
        archive=f"{ARCHIVE_SCHEMA}.{new_name}",
        statement=planned.number,
        rows=rows,
        restore_hint=_table_restore_hint(conn, schema, name, new_name),
    )
    return archived, queued


def _queue_relocation(
    sent: Trip,
    moving: tuple[Member, str],
    why: tuple[PlannedStatement, datetime],
    ahead: list[sql.Composed],
    then: Callable[[Trip], T],
) -> T:
    """In the caller's trip: the statements `ahead`, then rename the table into the archive
    schema, with a comment saying where it came from; then what `then` sends."""
    (_, (schema, name)), new_name = moving
    planned, when = why
    for statement in ahead:
        sent.execute(statement)
    sent.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(schema, name), sql.Identifier(new_name)
        )
    )
    sent.execute(
        sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
            sql.Identifier(schema, new_name), sql.Identifier(ARCHIVE_SCHEMA)
        )
    )
    sent.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            sql.Identifier(ARCHIVE_SCHEMA, new_name),
            sql.Literal(
                f"{schema}.{name}, archived by migration-rollback instead of DROP TABLE "
                f"(rollback of {planned.version}, {when.isoformat()})"
            ),
        )
    )
    return then(sent)


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
    with trip(conn) as read:
        taken = in_archive(read, name)
    return taken.fetchone() is not None


def free_archive_name(conn: Connection, name: str) -> str:
    return next_free_name(conn, name, _exists_in_archive(conn, name))


_IN_ARCHIVE_READ = prepared.read(
    _IN_ARCHIVE.format(sql.Placeholder("name")), ("archive", "text"), ("name", "text")
)


def in_archive(sent: Trip, name: str) -> Fetched:
    """Whether `name` is taken in the archive (a row: taken), queued in the caller's trip;
    then `next_free_name`."""
    return prepared.execute(sent, _IN_ARCHIVE_READ, {"archive": ARCHIVE_SCHEMA, "name": name})


def next_free_name(conn: Connection, name: str, taken: bool) -> str:
    """`name`, or the first free variant of it when `taken`."""
    candidate = name
    attempt = 0
    while taken:
        attempt += 1
        candidate = collision_free_name(name, f"{name}#{attempt}")
        taken = _exists_in_archive(conn, candidate)
    return candidate


# A table's indexes and owned sequences, each with whether its name is taken in the archive:
# one round trip, whatever their number. Both ways in make one array (computed once), so that
# pg_class is probed by OID: `IN (SELECT ...) OR IN (SELECT ...)` scanned the whole of it.
_PARTS = sql.SQL("""
SELECT n.nspname, part.relname, part.relkind, EXISTS ({0})
FROM pg_class part JOIN pg_namespace n ON n.oid = part.relnamespace
WHERE part.oid = ANY(ARRAY(SELECT indexrelid FROM pg_index WHERE indrelid = %(table)s)
                     || ARRAY(SELECT d.objid FROM pg_depend d
                              JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                              WHERE d.classid = 'pg_class'::regclass
                                AND d.refclassid = 'pg_class'::regclass
                                AND d.refobjid = %(table)s AND d.deptype IN ('a', 'i')))
""").format(_IN_ARCHIVE.format(sql.Identifier("part", "relname")))
_PARTS_READ = prepared.read(_PARTS, ("table", "oid"), ("archive", "text"))


@dataclass
class _Names:
    """The reads that choose a table's archive name: whether the name is taken, and its indexes
    and owned sequences (each with whether its name is taken there)."""

    taken: Fetched
    parts: Fetched

    def free_name(self, conn: Connection, name: str) -> str:
        """A free archive name for the table (`name` when it is), its clashing parts renamed."""
        new_name = next_free_name(conn, name, self.taken.fetchone() is not None)
        _rename_clashing_parts(conn, self.parts.fetchall(), new_name)
        return new_name


def _queue_names(sent: Trip, oid: int, name: str) -> _Names:
    """In the caller's trip: the reads of `_Names` for table `oid`, archived as `name`."""
    return _Names(
        in_archive(sent, name),
        prepared.execute(sent, _PARTS_READ, {"table": oid, "archive": ARCHIVE_SCHEMA}),
    )


def _rename_clashing_parts(conn: Connection, parts: list[tuple[Any, ...]], owner: str) -> None:
    """Indexes and owned sequences move with the table; rename any whose name is taken there."""
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
