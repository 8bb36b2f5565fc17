"""What of a table a capture keeps, and the SQL that keeps it, from the statement's own clauses.

The table's live columns and types (values of user-defined types are kept as text), the reasons
a capture is refused (no key to match rows back by, a key the statement changes, cascades that
would not be kept), the lock that keeps writers out until the statement has run, and the
`CREATE TABLE ... AS SELECT` built from the statement's WITH, FROM and WHERE (capture_plan.py).
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_plan import CaptureKind, CaptureSpec, returning_insert
from migration_rollback.runner.relations import relation_name
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement


def live_columns(conn: Connection, oid: int) -> list[tuple[str, str]]:
    """(name, type) of every stored, writable column: generated columns are recomputed."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = '' "
        "ORDER BY attnum",
        [oid],
    ).fetchall()
    return [(str(n), str(t)) for n, t in rows]


def user_typed(conn: Connection, oid: int) -> set[str]:
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


# The kinds whose statement takes ACCESS EXCLUSIVE on the table itself (DROP TRIGGER, POLICY,
# INDEX and VIEW too: a kept definition must not change before its statement drops it).
_ACCESS_EXCLUSIVE = frozenset(
    {
        CaptureKind.TRUNCATE,
        CaptureKind.DROP_TABLE,
        CaptureKind.DROP_COLUMN,
        CaptureKind.ALTER_TYPE,
        CaptureKind.DROP_TRIGGER,
        CaptureKind.DROP_POLICY,
        CaptureKind.DROP_INDEX,
        CaptureKind.ADD_COLUMN,
        CaptureKind.DROP_VIEW,
    }
)


def lock_against_writers(conn: Connection, oid: int, kind: CaptureKind) -> None:
    """Writers must not change the rows between the capture and the statement.

    SHARE ROW EXCLUSIVE blocks writers but not readers; the DDL kinds take ACCESS EXCLUSIVE
    right away, as their statement is about to anyway (taking it first avoids an upgrade).
    """
    mode = "SHARE ROW EXCLUSIVE"
    if kind in _ACCESS_EXCLUSIVE:
        mode = "ACCESS EXCLUSIVE"
    only = sql.SQL("")
    if kind.keeps_definition:  # the table of a trigger, policy or index: that one alone
        if _is_view(conn, oid):  # a view's lock takes every table it reads: its DROP locks it
            return
        only = sql.SQL("ONLY ")
    conn.execute(
        sql.SQL("LOCK TABLE {}{} IN {} MODE").format(
            only, sql.Identifier(*relation_name(conn, oid)), sql.SQL(mode)
        )
    )


def _is_view(conn: Connection, oid: int) -> bool:
    row = conn.execute("SELECT relkind::text FROM pg_catalog.pg_class WHERE oid = %s", [oid])
    found = row.fetchone()
    return found is not None and found[0] in ("v", "m")


def lock_reads(conn: Connection, names: tuple[tuple[str, ...], ...]) -> None:
    """The tables a captured statement reads (a DO block's: it runs later than the capture,
    with no row count to check) are kept from writers too (SHARE: readers go on) until the
    migration commits. Views and catalogs are not locked: only plain and partitioned tables."""
    for name in names:
        row = conn.execute(
            "SELECT c.oid FROM pg_class c WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')"
            " AND c.relnamespace NOT IN ('pg_catalog'::regnamespace,"
            " 'information_schema'::regnamespace)",
            [sql.Identifier(*name).as_string(conn)],
        ).fetchone()
        if row is not None:
            conn.execute(
                sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                    sql.Identifier(*relation_name(conn, int(row[0])))
                )
            )


def capture_problem(conn: Connection, oid: int, spec: CaptureSpec, key: list[str]) -> str | None:
    if spec.kind.needs_key and not key:
        return (
            f"{'.'.join(relation_name(conn, oid))} has no primary key or NOT NULL unique key: "
            "its rows cannot be matched back"
        )
    if spec.kind in (CaptureKind.UPDATE, CaptureKind.UPSERT) and set(spec.columns) & set(key):
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


def captured_columns(
    conn: Connection, oid: int, spec: CaptureSpec, key: list[str]
) -> list[tuple[str, str]]:
    live = live_columns(conn, oid)
    types = dict(live)
    if spec.kind is CaptureKind.INSERT:
        wanted = list(key)
    elif spec.columns and spec.kind is not CaptureKind.UPSERT:  # an upsert may insert: all
        wanted = [*key, *(c for c in spec.columns if c not in key)]
    else:
        return live
    return [(name, types[name]) for name in wanted if name in types]


def capture_query(
    target: sql.Identifier, spec: CaptureSpec, record: CaptureRecord, as_text: set[str]
) -> sql.Composed:
    """`CREATE TABLE <capture> AS [WITH ...] SELECT <cols> FROM <target> WHERE <same where>`."""
    if spec.alias:  # the statement's clauses name the target by its alias (or its name)
        source: sql.Composable = sql.SQL(spec.target)
    else:
        source = sql.Identifier(record.schema, record.table)
    columns = sql.SQL(", ").join(kept_column(spec.alias, c, c in as_text) for c in record.columns)
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


def kept_column(alias: str, column: str, as_text: bool) -> sql.Composable:
    name = sql.Identifier(column)
    value = sql.SQL("{}.{}").format(sql.Identifier(alias), name) if alias else name
    return sql.SQL("{}::text AS {}").format(value, name) if as_text else value


def prepare_insert(
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
