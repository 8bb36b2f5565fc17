"""The captures a rollback can restore from, and the lines of the rollback each one answers.

`apply` keeps what a migration changed (capture.py); this reads the catalog rows of the latest
application of each version being rolled back, and finds the `-- undoes <file>:<line>:` groups
of the rollback files, so that each restore is placed where its forward statement is undone and
the MANUAL markers it answers stop blocking the run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast.enums.parsenodes import AlterTableType
from psycopg import sql

from migration_rollback.runner.capture_catalog import CAPTURE_SCHEMA, catalog_ident, catalog_present
from migration_rollback.runner.capture_definition_plan import definition_specs
from migration_rollback.runner.capture_plan import CaptureKind, capture_specs
from migration_rollback.runner.catalog_trust import require_trusted_catalog
from migration_rollback.runner.rollback_file import RollbackSource
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement, parse_script
from migration_rollback.sql._ast import ast
from migration_rollback.sql.parse import numbered_lines

_UNDOES = re.compile(r"^\s*--\s*undoes\s+(?P<file>.+?):(?P<line>\d+):")
DATA_STATEMENTS = (
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.MergeStmt,
    ast.InsertStmt,
    ast.TruncateStmt,
)
# ALTER TABLE subcommands whose MANUAL item a capture answers (prior type, dropped values).
_COVERED_SUBCOMMANDS = {AlterTableType.AT_AlterColumnType, AlterTableType.AT_DropColumn}


@dataclass(frozen=True, slots=True)
class Capture:
    """One catalog row of the latest application of a migration."""

    id: int
    version: str
    statement: int
    line: int
    kind: CaptureKind
    status: str
    reason: str | None
    schema: str
    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    types: tuple[str, ...]
    capture_table: str | None
    rows: int
    xid: int | None
    detail: dict[str, Any] | None
    sha256: str = ""  # of the migration file apply ran ("" when not known: verify's shadow)

    @property
    def usable(self) -> bool:
        return self.status == "captured" and self.xid is not None

    @property
    def target(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.table)

    @property
    def kept(self) -> sql.Identifier:
        return sql.Identifier(CAPTURE_SCHEMA, self.capture_table or "")

    @property
    def values(self) -> tuple[str, ...]:
        """The captured columns that are not the key."""
        return tuple(c for c in self.columns if c not in self.key)

    def type_of(self, column: str) -> str:
        return self.types[self.columns.index(column)]

    def describe(self) -> str:
        if self.kind.keeps_definition and self.detail:
            return f"{self.kind} {self.detail['object']}"
        return f"{self.kind} {self.schema}.{self.table}".rstrip(".")


_LOAD = """
SELECT id, version, statement, line, kind, status, reason, coalesce(target_schema, ''),
       coalesce(target_table, ''), key_columns, columns, column_types, capture_table,
       coalesce(rows, 0), xid::text, detail, coalesce(source_sha256, '')
FROM {catalog} c
WHERE version = ANY(%s) AND restored_at IS NULL
  AND applied_id = (SELECT applied_id FROM {catalog} l WHERE l.version = c.version
                    ORDER BY id DESC LIMIT 1)
ORDER BY version, statement DESC, id DESC
"""


def load_captures(conn: Connection, versions: Sequence[str]) -> list[Capture]:
    """The captures of the latest application of each version; none without a catalog."""
    if not catalog_present(conn):
        return []
    require_trusted_catalog(conn)  # what it holds is run as this role
    rows = conn.execute(sql.SQL(_LOAD).format(catalog=catalog_ident()), [list(versions)])
    return [
        Capture(
            id=int(r[0]),
            version=str(r[1]),
            statement=int(r[2]),
            line=int(r[3]),
            kind=CaptureKind(r[4]),
            status=str(r[5]),
            reason=r[6],
            schema=str(r[7]),
            table=str(r[8]),
            key=tuple(r[9]),
            columns=tuple(r[10]),
            types=tuple(r[11]),
            capture_table=r[12],
            rows=int(r[13]),
            xid=int(r[14]) if r[14] is not None else None,
            detail=r[15],
            sha256=str(r[16]),
        )
        for r in rows.fetchall()
    ]


# --- where each restore goes in the rollback, and which MANUAL markers it answers ----------


@dataclass(frozen=True, slots=True)
class Group:
    """The lines of a rollback file that undo one forward statement."""

    version: str
    start: int  # the `-- undoes` comment's line
    end: int  # the next group's first line (exclusive)
    forward_line: int


def groups_of(source: RollbackSource) -> list[Group]:
    """The groups of the text that was checked and parsed, not of the file as it is now."""
    return groups_in(source.text, source.migration.version)


def groups_in(text: str, version: str) -> list[Group]:
    """The `-- undoes <file>:<line>:` groups of a rollback's text."""
    starts: list[tuple[int, int]] = []
    for number, line in numbered_lines(text):  # numbered as the statements are
        match = _UNDOES.match(line)
        if match:
            starts.append((number, int(match.group("line"))))
    ends = [s for s, _ in starts[1:]] + [10**9]  # the last group runs to the end
    return [Group(version, s, e, fwd) for (s, fwd), e in zip(starts, ends, strict=False)]


def forward_statements(source: RollbackSource, migrations_dir: Path) -> dict[int, Statement]:
    """The forward migration's statements by line (what each group undoes), parsed from the
    text read when the rollback was loaded (its checksum was checked on those bytes)."""
    if source.forward is None:
        return {}
    name = Path(source.header.get("Source") or f"{source.migration.name}.sql").name
    script = parse_script(source.forward.text, str(migrations_dir / name))
    return {s.location.line: s for s in script.statements}


def _every_block_write_kept(statement: Statement, captures: list[Capture]) -> bool:
    """Read again from the block's code, not inferred from the captures there are: a write
    the capture did not see, or could not keep, leaves the block's MANUAL item in place."""
    specs = capture_specs(statement)
    kept = {c.table for c in captures}
    return bool(specs) and all(s.manual is None and s.table[-1] in kept for s in specs)


def left_unchanged(statement: Statement | None, captures: list[Capture]) -> bool:
    """Whether the captures show the forward statement changed nothing: every object it makes
    IF NOT EXISTS was there. An ALTER TABLE doing anything besides ADD COLUMN IF NOT EXISTS
    (a constraint, a default) changed that all the same, and its undo must run."""
    if statement is None or not captures:
        return False
    node = statement.node
    if isinstance(node, ast.AlterTableStmt):
        cmds = node.cmds or ()
        adds = all(c.subtype == AlterTableType.AT_AddColumn and c.missing_ok for c in cmds)
        return adds and len(captures) == len(cmds)
    return bool(getattr(node, "if_not_exists", False)) and len(captures) == 1


def answered(statement: Statement | None, captures: list[Capture]) -> bool:
    """Whether the captures answer every MANUAL item of this forward statement."""
    if statement is None or not captures or not all(c.usable for c in captures):
        return False
    node = statement.node
    definitions = definition_specs(statement)
    if definitions:  # each object it drops or replaces kept, or known absent
        objects = [c for c in captures if c.kind.keeps_definition]
        return len(objects) == len(definitions) and all(s.manual is None for s in definitions)
    if isinstance(node, DATA_STATEMENTS):
        return True
    if isinstance(node, ast.DoStmt):
        return _every_block_write_kept(statement, captures)
    if isinstance(node, ast.AlterTableStmt):
        touched = [c for c in node.cmds or () if c.subtype in _COVERED_SUBCOMMANDS]
        others = [c for c in node.cmds or () if c.subtype not in _COVERED_SUBCOMMANDS]
        kept = {c.columns[-1] for c in captures if c.columns}
        # Other subcommands may carry their own MANUAL items (a default, a constraint).
        return not others and all(str(c.name) in kept for c in touched)
    return False
