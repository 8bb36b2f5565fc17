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

A dropped column is copied (primary key + value) into an archive table before the statement
runs. Everything happens inside the run's transaction, so a dry run or a failure leaves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from migration_rollback.runner.archive_inert import make_inert, untype_columns
from migration_rollback.runner.impact import EXACT_COUNT_BELOW, UNANALYSED_COUNT_MAX_BYTES
from migration_rollback.runner.naming import (
    ARCHIVE_SCHEMA,
    archived_column_name,
    archived_table_name,
    collision_free_name,
)
from migration_rollback.runner.plan import PlannedStatement, QName
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


def regclass_text(conn: Connection, name: QName) -> str:
    """A name as `to_regclass` reads it: quoted parts, resolved with the session's search_path."""
    return sql.Identifier(*name).as_string(conn)


def resolve_relation(conn: Connection, name: QName) -> int | None:
    row = conn.execute("SELECT to_regclass(%s)::oid", [regclass_text(conn, name)]).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def relation_name(conn: Connection, oid: int) -> tuple[str, str]:
    row = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = %s",
        [oid],
    ).fetchone()
    if row is None:
        raise LookupError(f"relation {oid} vanished")
    return str(row[0]), str(row[1])


def _ident(conn: Connection, oid: int) -> sql.Identifier:
    return sql.Identifier(*relation_name(conn, oid))


def ensure_archive_schema(conn: Connection) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(ARCHIVE_SCHEMA)))
    conn.execute(
        sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
            sql.Identifier(ARCHIVE_SCHEMA),
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
        "SELECT reltuples::bigint, pg_relation_size(oid) FROM pg_class WHERE oid = %s", [oid]
    ).fetchone()
    estimate = int(row[0]) if row and row[0] is not None else -1
    size = int(row[1]) if row and row[1] is not None else 0
    if estimate >= EXACT_COUNT_BELOW or (estimate < 0 and size > UNANALYSED_COUNT_MAX_BYTES):
        return estimate if estimate >= 0 else None
    conn.execute(sql.SQL("SAVEPOINT {}").format(_COUNT))
    try:
        counted = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(_ident(conn, oid))
        ).fetchone()
    except psycopg.errors.QueryCanceled:
        conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(_COUNT))
        return estimate if estimate >= 0 else None
    conn.execute(sql.SQL("RELEASE SAVEPOINT {}").format(_COUNT))
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
        outcome.dependents += _drop_inbound_foreign_keys(conn, members)
        outcome.dependents += _drop_dependent_views(conn, members)
    outcome.dependents += _detach_from_live_schema(conn, members)
    for oid in members:
        outcome.archived.append(_move(conn, oid, planned, when))
        outcome.moved_oids.append(oid)
    outcome.dependents += make_inert(conn, members)
    outcome.dependents += [
        f"{what} still depends on archived {', '.join(a.archive for a in outcome.archived)}"
        for what in _remaining_dependents(conn, members)
    ]
    return outcome


def _probe(conn: Connection, statement: str) -> None:
    """Run the original DROP and undo it: it fails (or is a no-op) exactly as it would."""
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


def _drop_inbound_foreign_keys(conn: Connection, members: list[int]) -> list[str]:
    rows = conn.execute(
        """
        SELECT k.conrelid, k.conname, k.confrelid FROM pg_constraint k
        WHERE k.contype = 'f' AND k.confrelid = ANY(%s) AND NOT k.conrelid = ANY(%s)
          AND k.conparentid = 0
        ORDER BY k.conrelid, k.conname
        """,
        [members, members],
    ).fetchall()
    done: list[str] = []
    for conrelid, conname, confrelid in rows:
        table = relation_name(conn, int(conrelid))
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(*table), sql.Identifier(conname)
            )
        )
        target = ".".join(relation_name(conn, int(confrelid)))
        done.append(
            f"dropped foreign key {conname} on {'.'.join(table)} (it referenced {target}; "
            "CASCADE would have dropped it)"
        )
    return done


def _drop_dependent_views(conn: Connection, members: list[int]) -> list[str]:
    rows = conn.execute(
        """
        SELECT DISTINCT v.oid, v.relkind FROM pg_depend d
        JOIN pg_rewrite r ON r.oid = d.objid
        JOIN pg_class v ON v.oid = r.ev_class
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = ANY(%s) AND NOT v.oid = ANY(%s)
        ORDER BY v.oid
        """,
        [members, members],
    ).fetchall()
    done: list[str] = []
    for oid, relkind in rows:
        name = _name_if_exists(conn, int(oid))
        if name is None:
            continue  # already gone with an earlier view's CASCADE
        kind = "MATERIALIZED VIEW" if relkind == "m" else "VIEW"
        conn.execute(
            sql.SQL("DROP {} IF EXISTS {} CASCADE").format(sql.SQL(kind), sql.Identifier(*name))
        )
        done.append(f"dropped {kind.lower()} {'.'.join(name)} (CASCADE; it read an archived table)")
    return done


def _name_if_exists(conn: Connection, oid: int) -> tuple[str, str] | None:
    try:
        return relation_name(conn, oid)
    except LookupError:
        return None


# Objects that live on a table and would go with it: (keyword, query for (table oid, name)).
_ON_TABLE_OBJECTS = (
    (
        "TRIGGER",
        "SELECT tgrelid, tgname FROM pg_trigger WHERE tgrelid = ANY(%s) AND NOT tgisinternal "
        "AND tgparentid = 0 ORDER BY tgrelid, tgname",
    ),
    ("POLICY", "SELECT polrelid, polname FROM pg_policy WHERE polrelid = ANY(%s) ORDER BY 1, 2"),
)


def _detach_from_live_schema(conn: Connection, members: list[int]) -> list[str]:
    """Remove what ties the archived data to live objects, as the DROP would have."""
    done: list[str] = []
    statements: list[tuple[sql.Composed, str]] = []
    for oid, conname, target in conn.execute(
        """
        SELECT k.conrelid, k.conname, k.confrelid FROM pg_constraint k
        WHERE k.contype = 'f' AND k.conrelid = ANY(%s) AND NOT k.confrelid = ANY(%s)
          AND k.conparentid = 0
        """,
        [members, members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        statements.append(
            (
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(*table), sql.Identifier(conname)
                ),
                f"dropped foreign key {conname} of archived {'.'.join(table)} "
                f"(to {'.'.join(relation_name(conn, int(target)))})",
            )
        )
    for keyword, query in _ON_TABLE_OBJECTS:
        for oid, name in conn.execute(query, [members]).fetchall():
            table = relation_name(conn, int(oid))
            statements.append(
                (
                    sql.SQL(f"DROP {keyword} {{}} ON {{}}").format(
                        sql.Identifier(name), sql.Identifier(*table)
                    ),
                    f"dropped {keyword.lower()} {name} of archived {'.'.join(table)}",
                )
            )
    for oid, attname in conn.execute(
        """
        SELECT d.adrelid, a.attname FROM pg_attrdef d
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = ANY(%s) AND a.attgenerated = '' ORDER BY 1, a.attnum
        """,
        [members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        statements.append(
            (
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
                    sql.Identifier(*table), sql.Identifier(attname)
                ),
                "",  # defaults go silently: they only name functions and sequences
            )
        )
    for pubname, oid in conn.execute(
        "SELECT p.pubname, r.prrelid FROM pg_publication_rel r "
        "JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = ANY(%s) ORDER BY 1, 2",
        [members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        statements.append(
            (
                sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
                    sql.Identifier(pubname), sql.Identifier(*table)
                ),
                f"removed archived {'.'.join(table)} from publication {pubname}",
            )
        )
    for statement, note in statements:
        conn.execute(statement)
        if note:
            done.append(note)
    return done


def _move(conn: Connection, oid: int, planned: PlannedStatement, when: datetime) -> ArchivedObject:
    schema, name = relation_name(conn, oid)
    new_name = _free_archive_name(conn, archived_table_name(name, planned.version, when))
    _rename_clashing_parts(conn, oid, new_name)
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
    archive = f"{ARCHIVE_SCHEMA}.{new_name}"
    return ArchivedObject(
        kind="table",
        source=f"{schema}.{name}",
        archive=archive,
        statement=planned.number,
        rows=count_rows(conn, oid),
        restore_hint=(
            f"ALTER TABLE {sql.Identifier(ARCHIVE_SCHEMA, new_name).as_string(conn)} "
            f"SET SCHEMA {sql.Identifier(schema).as_string(conn)}; "
            f"ALTER TABLE {sql.Identifier(schema, new_name).as_string(conn)} "
            f"RENAME TO {sql.Identifier(name).as_string(conn)};"
        ),
    )


def _exists_in_archive(conn: Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s "
        "UNION ALL SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = %s AND t.typname = %s",
        [ARCHIVE_SCHEMA, name, ARCHIVE_SCHEMA, name],
    ).fetchone()
    return row is not None


def _free_archive_name(conn: Connection, name: str) -> str:
    candidate = name
    attempt = 0
    while _exists_in_archive(conn, candidate):
        attempt += 1
        candidate = collision_free_name(name, f"{name}#{attempt}")
    return candidate


def _rename_clashing_parts(conn: Connection, oid: int, owner: str) -> None:
    """Indexes and owned sequences move with the table; rename any whose name is taken there."""
    parts = conn.execute(
        """
        SELECT c.oid, c.relname, c.relkind FROM pg_class c
        WHERE c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s)
           OR c.oid IN (SELECT d.objid FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass
                          AND d.refclassid = 'pg_class'::regclass
                          AND d.refobjid = %s AND d.deptype IN ('a', 'i'))
              AND c.relkind = 'S'
        """,
        [oid, oid],
    ).fetchall()
    for part_oid, relname, relkind in parts:
        if not _exists_in_archive(conn, relname):
            continue
        new_name = _free_archive_name(conn, collision_free_name(relname, owner))
        kind = sql.SQL("INDEX" if relkind in ("i", "I") else "SEQUENCE")
        conn.execute(
            sql.SQL("ALTER {} {} RENAME TO {}").format(
                kind, _ident(conn, int(part_oid)), sql.Identifier(new_name)
            )
        )


def _remaining_dependents(conn: Connection, members: list[int]) -> list[str]:
    """Objects outside the archive still depending on an archived table (or its row type)."""
    rows = conn.execute(
        """
        SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
        FROM pg_depend d
        WHERE d.deptype = 'n'
          AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(m)s))
               OR (d.refclassid = 'pg_type'::regclass
                   AND d.refobjid IN (SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s))))
          AND NOT (d.classid = 'pg_class'::regclass AND d.objid = ANY(%(m)s))
          AND NOT (d.classid = 'pg_constraint'::regclass
                   AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = ANY(%(m)s)))
          AND NOT (d.classid = 'pg_type'::regclass
                   AND d.objid IN (SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s)))
        ORDER BY 1
        """,
        {"m": members},
    ).fetchall()
    return [str(r[0]) for r in rows]


# --- DROP COLUMN -> copy out first -------------------------------------------------------


def copy_columns(conn: Connection, planned: PlannedStatement, when: datetime) -> ArchiveOutcome:
    """Copy each column the statement drops (with the row's key) into the archive schema."""
    outcome = ArchiveOutcome()
    for table, column in planned.columns:
        oid = resolve_relation(conn, table)
        if oid is None:
            continue  # the statement itself errors (or is a no-op with IF EXISTS)
        attribute = conn.execute(
            "SELECT attnum, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attname = %s AND attnum > 0 AND NOT attisdropped",
            [oid, column],
        ).fetchone()
        if attribute is None:
            continue
        ensure_archive_schema(conn)
        outcome.archived.append(_copy_column(conn, planned, when, oid, column, str(attribute[1])))
        outcome.copied_columns.append((oid, int(attribute[0])))
    return outcome


def row_key(conn: Connection, oid: int) -> list[str]:
    """The columns that identify a row: the primary key, else a NOT NULL unique index."""
    rows = conn.execute(
        """
        SELECT i.indexrelid, i.indisprimary,
               array_agg(a.attname ORDER BY k.ord) AS cols,
               bool_and(a.attnotnull) AS not_null
        FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = %s AND (i.indisprimary OR i.indisunique) AND i.indisvalid
          AND i.indpred IS NULL AND NOT (0 = ANY(i.indkey::int2[]))
        GROUP BY i.indexrelid, i.indisprimary
        ORDER BY i.indisprimary DESC, i.indexrelid
        """,
        [oid],
    ).fetchall()
    for _index, primary, cols, not_null in rows:
        if primary or not_null:
            return [str(c) for c in cols]
    return []


def _all_columns(conn: Connection, oid: int) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [oid],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _copy_column(
    conn: Connection,
    planned: PlannedStatement,
    when: datetime,
    oid: int,
    column: str,
    type_sql: str,
) -> ArchivedObject:
    schema, table = relation_name(conn, oid)
    key = row_key(conn, oid)
    copied: Sequence[str] = [*key, column] if column not in key else key
    if not key:
        copied = _all_columns(conn, oid)  # no key: whole rows, so values can still be matched
    name = _free_archive_name(conn, archived_column_name(table, column, planned.version, when))
    target = sql.Identifier(ARCHIVE_SCHEMA, name)
    cur = conn.execute(
        sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
            target,
            sql.SQL(", ").join(sql.Identifier(c) for c in copied),
            sql.Identifier(schema, table),
        )
    )
    rows = cur.rowcount if cur.rowcount >= 0 else None
    copy_oid = resolve_relation(conn, (ARCHIVE_SCHEMA, name))
    if copy_oid is not None:
        untype_columns(conn, [copy_oid])
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            target,
            sql.Literal(
                f"column {schema}.{table}.{column} ({type_sql}), copied by migration-rollback "
                f"before DROP COLUMN (rollback of {planned.version}, {when.isoformat()}); "
                f"key: {', '.join(key) or 'none (whole rows)'}"
            ),
        )
    )
    return ArchivedObject(
        kind="column",
        source=f"{schema}.{table}.{column}",
        archive=f"{ARCHIVE_SCHEMA}.{name}",
        statement=planned.number,
        rows=rows,
        key_columns=list(key),
        restore_hint=_column_restore_hint(conn, schema, table, column, type_sql, name, key),
    )


def _column_restore_hint(
    conn: Connection,
    schema: str,
    table: str,
    column: str,
    type_sql: str,
    archive: str,
    key: list[str],
) -> str:
    live = sql.Identifier(schema, table).as_string(conn)
    col = sql.Identifier(column).as_string(conn)
    add = f"ALTER TABLE {live} ADD COLUMN {col} {type_sql};"
    if not key:
        return f"{add} -- no key: match rows of {ARCHIVE_SCHEMA}.{archive} by hand"
    match = " AND ".join(
        f"t.{sql.Identifier(k).as_string(conn)} = a.{sql.Identifier(k).as_string(conn)}"
        for k in key
    )
    return (
        f"{add} UPDATE {live} t SET {col} = a.{col} FROM "
        f"{sql.Identifier(ARCHIVE_SCHEMA, archive).as_string(conn)} a WHERE {match};"
    )
