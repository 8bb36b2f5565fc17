"""The capture catalog: which kept table belongs to which migration, statement and transaction.

Each capture `apply` takes is a plain table in the `migration_rollback_capture` schema and a row
in `migration_rollback_capture.captures`: its key, the captured columns with their types as they
were, its size, and the migration's transaction id (what "changed since the migration" is
measured against). Sequences a migration moved are recorded here too, by value. capture.py
takes the captures; restore.py reads them back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.naming import fit_identifier
from migration_rollback.runner.relations import relation_exists
from migration_rollback.runner.session import Connection
from migration_rollback.runner.table_shape import require_own_table

CAPTURE_SCHEMA = "migration_rollback_capture"
CATALOG = "captures"

_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS {catalog} (
  id bigserial PRIMARY KEY,
  applied_id text NOT NULL,
  version text NOT NULL,
  migration text NOT NULL,
  statement int NOT NULL,
  line int NOT NULL,
  kind text NOT NULL,
  status text NOT NULL,
  reason text,
  target_schema text,
  target_table text,
  key_columns text[] NOT NULL DEFAULT '{{}}',
  columns text[] NOT NULL DEFAULT '{{}}',
  column_types text[] NOT NULL DEFAULT '{{}}',
  capture_table text,
  rows bigint,
  bytes bigint,
  xid xid8,
  source_sha256 text,
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  restored_at timestamptz
)
"""


@dataclass
class CaptureRecord:
    """One kept table (or the reason nothing could be kept), as written to the catalog."""

    statement: int
    line: int
    kind: CaptureKind
    status: str  # captured | manual | opted-out
    schema: str = ""
    table: str = ""
    reason: str | None = None
    key: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    capture_table: str | None = None
    rows: int = 0
    bytes: int = 0
    detail: dict[str, Any] | None = None

    @property
    def target(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def catalog_ident() -> sql.Identifier:
    return sql.Identifier(CAPTURE_SCHEMA, CATALOG)


# The catalog's columns as `format_type` spells them: a table of its name without them is not
# the runner's (see table_shape).
_COLUMNS: dict[str, str | None] = {
    "id": "bigint",
    **dict.fromkeys(("applied_id", "version", "migration", "kind", "status"), "text"),
    "statement": "integer",
    "line": "integer",
    **dict.fromkeys(("reason", "target_schema", "target_table", "capture_table"), "text"),
    **dict.fromkeys(("key_columns", "columns", "column_types"), "text[]"),
    "rows": "bigint",
    "bytes": "bigint",
    "xid": "xid8",
    "source_sha256": "text",
    "detail": "jsonb",
    "created_at": "timestamp with time zone",
    "restored_at": "timestamp with time zone",
}


def catalog_present(conn: Connection) -> bool:
    """The catalog is there, and is the runner's (one of its name in another shape is
    refused, saying what it is, before a row is read or written)."""
    if not relation_exists(conn, catalog_ident()):
        return False
    require_own_table(conn, CAPTURE_SCHEMA, CATALOG, _COLUMNS, "the capture catalog")
    return True


def ensure_capture_schema(conn: Connection) -> None:
    """The catalog, made when missing (IF NOT EXISTS asks for CREATE on the database even
    when the schema is there)."""
    if catalog_present(conn):
        return
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(CAPTURE_SCHEMA)))
    conn.execute(sql.SQL(_CATALOG_DDL).format(catalog=catalog_ident()))


def new_applied_id() -> str:
    return uuid.uuid4().hex[:12]


def capture_table_name(version: str, statement: int, item: int, table: str, applied: str) -> str:
    return fit_identifier(f"{version}_{statement}_{item}_{table}", f"_{applied}")


def record_capture(
    conn: Connection,
    record: CaptureRecord,
    *,
    applied: str,
    version: str,
    migration: str,
    sha256: str,
) -> None:
    """One catalog row; the migration's transaction id is filled in just before COMMIT."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (applied_id, version, migration, statement, line, kind, status, "
            "reason, target_schema, target_table, key_columns, columns, column_types, "
            "capture_table, rows, bytes, source_sha256, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(catalog_ident()),
        [
            applied,
            version,
            migration,
            record.statement,
            record.line,
            str(record.kind),
            record.status,
            record.reason,
            record.schema or None,
            record.table or None,
            record.key,
            record.columns,
            record.types,
            record.capture_table,
            record.rows,
            record.bytes,
            sha256,
            _json(record.detail),
        ],
    )


def _json(detail: dict[str, Any] | None) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(detail) if detail is not None else None


def stamp_transaction(conn: Connection, applied: str) -> int:
    """Record the migration's transaction id on its captures (the "since" of loss accounting)."""
    cur = conn.execute(
        sql.SQL("UPDATE {} SET xid = pg_current_xact_id() WHERE applied_id = %s").format(
            catalog_ident()
        ),
        [applied],
    )
    return cur.rowcount


# --- sequences -----------------------------------------------------------------------------

_SEQUENCES = """
SELECT schemaname::text, sequencename::text, last_value FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""


def sequence_values(conn: Connection) -> dict[tuple[str, str], int | None]:
    """Every sequence's position (None: never used); cheap, one catalog view."""
    return {
        (str(s), str(n)): (int(v) if v is not None else None)
        for s, n, v in conn.execute(_SEQUENCES)
    }


def sequence_records(
    before: dict[tuple[str, str], int | None], after: dict[tuple[str, str], int | None]
) -> list[CaptureRecord]:
    """A record for each sequence the migration moved: its value before and after."""
    moved = []
    for name, value in sorted(before.items()):
        if name in after and after[name] != value:
            moved.append(
                CaptureRecord(
                    statement=0,
                    line=0,
                    kind=CaptureKind.SEQUENCE,
                    status="captured",
                    schema=name[0],
                    table=name[1],
                    detail={"before": value, "after": after[name]},
                )
            )
    return moved
