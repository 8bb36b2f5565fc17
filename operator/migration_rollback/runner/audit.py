"""The audit log: one row per run in `migration_rollback.audit_log`, failures included.

The row is inserted when the run starts and completed when it ends, on its own autocommit
connection, so it survives the rollback transaction being rolled back (or a dry run) and a
run killed half-way still leaves a `running` row behind. Who ran it is recorded three ways:
the database role, the OS user, and `MIGRATION_ROLLBACK_ACTOR` (the human behind a GitOps
commit or a `kubectl apply`, which the operator passes down).

The table is kept for good, in the target database, readable by whoever can read it: every
value that holds text from outside (the migration or target as given, who, host, statements,
the error) goes through `_scrubbed` on its way in, with password places masked whether or not
the run's own URL held a password. What the tool computes (outcome, sha256, times, flags) is
written as it is: a digest masked because a password is "2025" would be a wrong record.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import errors, sql
from psycopg.types.json import Jsonb

from migration_rollback.redact import Redactor
from migration_rollback.runner.session import Connection
from migration_rollback.runner.table_shape import require_own_table

AUDIT_SCHEMA = "migration_rollback"
AUDIT_TABLE = "audit_log"
ACTOR_ENV = "MIGRATION_ROLLBACK_ACTOR"

_TABLE = sql.Identifier(AUDIT_SCHEMA, AUDIT_TABLE)
_CREATE = [
    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(AUDIT_SCHEMA)),
    sql.SQL(
        """
        CREATE TABLE IF NOT EXISTS {} (
          id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          migration   text NOT NULL,
          sha256      text,
          who         jsonb NOT NULL,
          host        text,
          started_at  timestamptz NOT NULL DEFAULT now(),
          finished_at timestamptz,
          outcome     text NOT NULL,
          dry_run     boolean NOT NULL,
          statements  jsonb,
          archived    jsonb,
          error       text
        )
        """
    ).format(_TABLE),
]

# What to do when the audit row cannot be written, by the SQLSTATE that refused it.
_REFUSAL_HINTS = {
    errors.ReadOnlySqlTransaction.sqlstate: (
        "the database is read-only (a standby in recovery, or default_transaction_read_only "
        "on): execute writes, run it against the primary"
    ),
    errors.InsufficientPrivilege.sqlstate: (
        f"the role needs USAGE on schema {AUDIT_SCHEMA} and SELECT, INSERT, UPDATE on "
        f"{AUDIT_SCHEMA}.{AUDIT_TABLE} and USAGE on its sequence, and CREATE on the database "
        "while the table does not exist yet"
    ),
}
# Any other refusal says its own cause: a guess at a privilege ("needs CREATE") misled when the
# table was there in another shape, or the server refused for another reason.
_OTHER_HINT = "nothing was rolled back: the run writes its audit row before anything else"
# The columns the runner writes and reads (`format_type` spelling): a table of the name
# without them is another tool's, refused by name before any row is written.
AUDIT_COLUMNS: dict[str, str | None] = {
    "id": "bigint",
    "migration": "text",
    "sha256": "text",
    "who": "jsonb",
    "host": "text",
    "started_at": "timestamp with time zone",
    "finished_at": "timestamp with time zone",
    "outcome": "text",
    "dry_run": "boolean",
    "statements": "jsonb",
    "archived": "jsonb",
    "error": "text",
}


def refusal_hint(sqlstate: str | None) -> str:
    """What to tell the person whose run could not write its audit row."""
    return _REFUSAL_HINTS.get(sqlstate or "", _OTHER_HINT)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user without a passwd entry
        return f"uid {os.getuid()}"


def ensure_audit_table(conn: Connection) -> None:
    """Create the audit table once; a transaction-scoped advisory lock stops two first runs
    from racing on CREATE ... IF NOT EXISTS (which is not atomic in PostgreSQL).

    Only when it is missing: `CREATE SCHEMA IF NOT EXISTS` checks CREATE on the database before
    it looks for the schema, so running it every time would ask every run for that right."""
    if _audit_table_exists(conn):
        check_shape(conn)
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('migration-rollback audit'))")
        for statement in _CREATE:
            conn.execute(statement)


def check_shape(conn: Connection) -> None:
    """The table found is the one the runner writes (not a view, no column missing)."""
    require_own_table(conn, AUDIT_SCHEMA, AUDIT_TABLE, AUDIT_COLUMNS, "the audit log")


def _audit_table_exists(conn: Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [_TABLE.as_string(conn)]).fetchone()
    return bool(row and row[0])


def start(
    conn: Connection,
    *,
    migration: str,
    dry_run: bool,
    env: Mapping[str, str],
    redactor: Redactor,
) -> int:
    ensure_audit_table(conn)
    who: dict[str, Any] = {"os_user": os_user()}
    if env.get(ACTOR_ENV):
        who["actor"] = env[ACTOR_ENV]
    text = _scrubbed(redactor, {"migration": migration, "who": who, "host": socket.gethostname()})
    row = conn.execute(
        sql.SQL(
            """
            INSERT INTO {} (migration, who, host, outcome, dry_run)
            VALUES (%s, %s || jsonb_build_object('db_user', current_user::text), %s,
                    'running', %s)
            RETURNING id
            """
        ).format(_TABLE),
        [text["migration"], Jsonb(text["who"]), text["host"], dry_run],
    ).fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned nothing")
    return int(row[0])


def finish(
    conn: Connection,
    audit_id: int,
    *,
    outcome: str,
    sha256: str | None,
    finished_at: datetime,
    statements: list[dict[str, Any]],
    archived: list[dict[str, Any]],
    error: str | None,
    redactor: Redactor,
) -> None:
    text = _scrubbed(redactor, {"statements": statements, "archived": archived, "error": error})
    conn.execute(
        sql.SQL(
            """
            UPDATE {} SET finished_at = %s, outcome = %s, sha256 = coalesce(%s, sha256),
                          statements = %s, archived = %s, error = %s
            WHERE id = %s
            """
        ).format(_TABLE),
        [finished_at, outcome, sha256, Jsonb(text["statements"]), Jsonb(text["archived"]),
         text["error"], audit_id],
    )  # fmt: skip


def _scrubbed(redactor: Redactor, values: dict[str, Any]) -> dict[str, Any]:
    """The row's values that hold text from outside, text and JSON alike, scrubbed of the
    run's secrets and of whatever stands in a password place (a connection string no redactor
    was told about)."""
    strict = Redactor(redactor.replacements, places=True)
    return {name: strict.scrub_obj(value) for name, value in values.items()}


def rolled_back(conn: Connection) -> list[str]:
    """What execute ran on (not a dry run), as its audit rows name it (a migration's name, or
    "every migration newer than <version>"), whatever the outcome the row says (a run killed
    after its COMMIT still says running): with the version gone from the history, a rollback
    file left in the folder after its forward was removed is one of these (apply_pending.py)."""
    if not _audit_table_exists(conn):
        return []
    query = sql.SQL("SELECT DISTINCT migration FROM {} WHERE NOT dry_run").format(_TABLE)
    return [str(r[0]) for r in conn.execute(query).fetchall()]
