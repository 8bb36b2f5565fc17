"""The migration history table: is the migration applied, which ones are newer, forget it.

Supabase records applied migrations in `supabase_migrations.schema_migrations(version text
primary key, statements text[], name text)`; other tools use other tables. Only a `version`
column is required, so any table of that shape can be named with `--history-table`.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from migration_rollback.jobresult import before_all, version_key
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId, TableName
from migration_rollback.runner.relations import relation_exists
from migration_rollback.runner.session import Connection
from migration_rollback.runner.table_shape import shape_problem


def _ident(table: TableName) -> sql.Identifier:
    return sql.Identifier(table.schema, table.name)


def check_history_table(conn: Connection, table: TableName) -> None:
    """The table named is there and is a table with a `version` column (a view of that name
    is not where the history is kept: rows deleted through it go wherever it says)."""
    if not relation_exists(conn, _ident(table)):
        raise PreconditionError(
            f"history table {table} does not exist: is this the right database, or pass "
            "--history-table"
        )
    problem = history_shape_problem(conn, table)
    if problem is not None:
        raise PreconditionError(f"history table {problem}")


def history_recorded(conn: Connection, table: TableName) -> bool:
    """For `apply`, which creates the table when missing: whether it is there, refused when
    it is there in another shape (its rows would not be written, or read, where they belong)."""
    if not relation_exists(conn, _ident(table)):
        return False
    problem = history_shape_problem(conn, table)
    if problem is not None:
        raise PreconditionError(f"cannot record applied migrations: {problem}")
    return True


def history_shape_problem(conn: Connection, table: TableName) -> str | None:
    """What is wrong with an existing history table, and what to do; None when it is usable."""
    problem = shape_problem(conn, table.schema, table.name, {"version": None})
    if problem is None:
        return None
    return (
        f"{problem}: --history-table must name the table that records applied migrations "
        "(Supabase's is supabase_migrations.schema_migrations)"
    )


def applied_versions(conn: Connection, table: TableName) -> list[str]:
    """Every version recorded as applied, oldest first."""
    rows = conn.execute(sql.SQL("SELECT version::text FROM {}").format(_ident(table))).fetchall()
    return sorted((str(r[0]) for r in rows if r[0] is not None), key=version_key)


def versions_to_roll_back(
    applied: list[str],
    *,
    single: str | None,
    to: str | None,
    has_file: Callable[[str], bool] = lambda _version: False,
) -> list[str]:
    """The versions this run removes, newest first; refuse a single one that is not applied,
    and a --to target that names no migration (`has_file`: a migration file has the version)."""
    if single is not None:
        if single not in applied:
            raise PreconditionError(
                f"migration {single} is not recorded as applied (nothing to roll back); "
                f"latest applied: {applied[-1] if applied else 'none'}"
            )
        return [single]
    assert to is not None
    if to not in applied and not before_all(to) and not has_file(to):
        # A typo or a short version ("2025") would otherwise roll back everything after it.
        # A version whose own migration was already undone (or never recorded) still has
        # its file, and is a target as it is for apply.
        raise PreconditionError(
            f"--to {to} is not an applied version and no migration file has it: the target must "
            f"be a migration's version, or 0 for all (applied, newest last: "
            f"{', '.join(sorted(applied, key=version_key)[-5:]) or 'none'})"
        )
    newer = [v for v in applied if version_key(v) > version_key(to)]
    if not newer:
        raise PreconditionError(f"no applied migration is newer than {to}: nothing to roll back")
    return sorted(newer, key=version_key, reverse=True)


def later_versions(applied: list[str], versions: list[str]) -> list[str]:
    """Applied versions newer than the newest one being rolled back (they stay applied)."""
    newest = max((version_key(v) for v in versions), default=None)
    if newest is None:
        return []
    return [v for v in applied if version_key(v) > newest and v not in versions]


def delete_versions(conn: Connection, table: TableName, versions: list[str]) -> int:
    """Forget the versions inside the caller's transaction; returns the rows removed."""
    cur = conn.execute(
        sql.SQL("DELETE FROM {} WHERE version::text = ANY(%s)").format(_ident(table)), [versions]
    )
    return cur.rowcount


def present_versions(conn: Connection, table: TableName, versions: list[str]) -> list[str]:
    rows = conn.execute(
        sql.SQL("SELECT version::text FROM {} WHERE version::text = ANY(%s)").format(_ident(table)),
        [versions],
    ).fetchall()
    return [str(r[0]) for r in rows]


def recorded_names(conn: Connection, table: TableName, versions: list[str]) -> dict[str, str]:
    """The `name` recorded for each version; empty when the table has no `name` column (only
    `version` is required) or the row leaves it blank."""
    row = conn.execute(
        """
        SELECT EXISTS (SELECT 1 FROM pg_attribute
                       WHERE attrelid = to_regclass(%s) AND attname = 'name' AND NOT attisdropped)
        """,
        [_ident(table).as_string(conn)],
    ).fetchone()
    if row is None or not row[0]:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT version::text, name::text FROM {} WHERE version::text = ANY(%s)").format(
            _ident(table)
        ),
        [versions],
    ).fetchall()
    return {str(version): str(name) for version, name in rows if name}


def check_recorded_names(conn: Connection, table: TableName, migrations: list[MigrationId]) -> None:
    """Refuse when the history says another migration holds the version: rolling back this
    file would undo what was never applied and forget the other migration's row."""
    recorded = recorded_names(conn, table, [m.version for m in migrations])
    for migration in migrations:
        name = recorded.get(migration.version)
        if name is None or migration.version_only or migration.same_name(name):
            continue
        raise PreconditionError(
            f"history table {table} records version {migration.version} as {name!r}, not "
            f"{migration.title!r} ({migration.name}): another migration with this version was "
            "applied; roll back that one (its file), or fix the history row"
        )
