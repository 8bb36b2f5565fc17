"""Put back the data a migration changed, from the captures `apply` kept, inside the rollback.

A generated rollback says, before each step, which forward statement it undoes (`-- undoes
<file>:<line>: ...`). When the target database holds a capture for that migration (see
capture.py), each captured statement gets a restore step at exactly that place in the rollback,
so restores run in reverse statement order, interleaved with the schema inverses: a column's
prior type comes back before the prior values of an earlier UPDATE are written into it.

- UPDATE: the prior values of the columns it set, written back by key.
- DELETE, TRUNCATE, DROP TABLE, MERGE: the prior rows put back (by key where there is one).
- INSERT: the inserted rows deleted by key.
- DROP COLUMN: the column re-added if the rollback did not, then refilled by key.
- ALTER COLUMN TYPE: the prior type restored with the exact prior values (a lookup by key in
  the USING expression; rows written since the migration are converted by a plain cast).
- sequences: set back, only if nobody has used them since the migration.

"Since the migration" is measured with row versions: a row whose xmin is newer than the
migration's transaction id was written after it. A captured row written since is a conflict:
`--on-conflict fail` refuses before anything runs, `keep-current` leaves such rows alone,
`restore-captured` overwrites them. Without a capture nothing here does anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pglast.enums.parsenodes import AlterTableType
from psycopg import sql

from migration_rollback.project.migrations import read_regular_file
from migration_rollback.runner.capture import CAPTURE_SCHEMA, catalog_ident
from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.plan import Plan
from migration_rollback.runner.rollback_file import RollbackSource
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Statement, parse_script
from migration_rollback.sql._ast import ast

ON_CONFLICT = ("fail", "keep-current", "restore-captured")
_UNDOES = re.compile(r"^\s*--\s*undoes\s+(?P<file>.+?):(?P<line>\d+):")
_DATA_STATEMENTS = (
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
        return f"{self.kind} {self.schema}.{self.table}".rstrip(".")


_LOAD = """
SELECT id, version, statement, line, kind, status, reason, coalesce(target_schema, ''),
       coalesce(target_table, ''), key_columns, columns, column_types, capture_table,
       coalesce(rows, 0), xid::text, detail
FROM {catalog} c
WHERE version = ANY(%s) AND restored_at IS NULL
  AND applied_id = (SELECT applied_id FROM {catalog} l WHERE l.version = c.version
                    ORDER BY id DESC LIMIT 1)
ORDER BY version, statement DESC, id DESC
"""


def load_captures(conn: Connection, versions: Sequence[str]) -> list[Capture]:
    """The captures of the latest application of each version; none without a catalog."""
    row = conn.execute("SELECT to_regclass(%s)", [catalog_ident().as_string(conn)]).fetchone()
    if row is None or row[0] is None:
        return []
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
    text = read_regular_file(Path(source.path)).decode("utf-8", errors="replace")
    return groups_in(text, source.migration.version)


def groups_in(text: str, version: str) -> list[Group]:
    """The `-- undoes <file>:<line>:` groups of a rollback's text."""
    starts: list[tuple[int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _UNDOES.match(line)
        if match:
            starts.append((number, int(match.group("line"))))
    ends = [s for s, _ in starts[1:]] + [10**9]  # the last group runs to the end
    return [Group(version, s, e, fwd) for (s, fwd), e in zip(starts, ends, strict=False)]


def _forward_statements(source: RollbackSource, migrations_dir: Path) -> dict[int, Statement]:
    """The forward migration's statements by line (what each group undoes)."""
    name = Path(source.header.get("Source") or f"{source.migration.name}.sql").name
    path = migrations_dir / name
    if not path.is_file():
        return {}
    script = parse_script(read_regular_file(path).decode("utf-8"), str(path))
    return {s.location.line: s for s in script.statements}


def _answered(statement: Statement | None, captures: list[Capture]) -> bool:
    """Whether the captures answer every MANUAL item of this forward statement."""
    if statement is None or not captures or not all(c.usable for c in captures):
        return False
    node = statement.node
    if isinstance(node, _DATA_STATEMENTS):
        return True
    if isinstance(node, ast.AlterTableStmt):
        touched = [c for c in node.cmds or () if c.subtype in _COVERED_SUBCOMMANDS]
        others = [c for c in node.cmds or () if c.subtype not in _COVERED_SUBCOMMANDS]
        kept = {c.columns[-1] for c in captures if c.columns}
        # Other subcommands may carry their own MANUAL items (a default, a constraint).
        return not others and all(str(c.name) in kept for c in touched)
    return False


@dataclass
class DataRestore:
    """The restore steps of one run: found, placed, accounted for, then run in the transaction."""

    captures: list[Capture] = field(default_factory=list)
    groups: dict[str, list[Group]] = field(default_factory=dict)
    covered_lines: dict[str, set[int]] = field(default_factory=dict)
    on_conflict: str = "fail"
    before: dict[int, list[Capture]] = field(default_factory=dict)
    at_end: list[Capture] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    done: list[int] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(c.usable for c in self.captures)

    def add(self, version: str, groups: list[Group], forward: dict[int, Statement]) -> None:
        """One rollback's groups, and the forward lines (by line) whose MANUAL items the
        captures answer."""
        self.groups[version] = groups
        by_line: dict[int, list[Capture]] = {}
        for capture in self.captures:
            if capture.version == version and capture.kind is not CaptureKind.SEQUENCE:
                by_line.setdefault(capture.line, []).append(capture)
        self.covered_lines[version] = {
            line for line, found in by_line.items() if _answered(forward.get(line), found)
        }

    # -- MANUAL markers -------------------------------------------------------------------

    def answers(self, version: str, line: int) -> bool:
        """A MANUAL marker at this line of the version's rollback is answered by a capture."""
        covered = self.covered_lines.get(version, set())
        return any(
            g.start < line < g.end and g.forward_line in covered
            for g in self.groups.get(version, [])
        )

    def unanswered(self, sources: list[RollbackSource]) -> list[RollbackSource]:
        """The sources with the MANUAL markers a capture answers taken out."""
        return [
            replace(
                source,
                manual=tuple(
                    m for m in source.manual if not self.answers(source.migration.version, m.line)
                ),
            )
            for source in sources
        ]

    # -- placing ----------------------------------------------------------------------------

    def schedule(self, plan: Plan) -> None:
        """Each restore runs before the first statement of its version that follows its group."""
        order = {v: i for i, v in enumerate(plan.versions)}
        items: list[tuple[tuple[int, float], Capture]] = []
        for capture in self.captures:
            if not capture.usable:
                continue
            group = next(
                (g for g in self.groups.get(capture.version, []) if g.forward_line == capture.line),
                None,
            )
            spot = float(group.end) - 0.5 if group is not None else float("inf")
            if group is None and capture.kind is not CaptureKind.SEQUENCE:
                self.warnings.append(
                    f"no '-- undoes' step for statement {capture.statement} of "
                    f"{capture.version} in the rollback: its data is restored after the rest"
                )
            items.append(((order.get(capture.version, 0), spot), capture))
        items.sort(key=lambda item: (item[0], -item[1].statement))
        pending = list(items)
        for planned in plan.statements:
            here = (order.get(planned.version, 0), float(planned.statement.location.line))
            due = [c for key, c in pending if key < here]
            pending = [(key, c) for key, c in pending if key >= here]
            if due:
                self.before[planned.number] = due
        self.at_end = [c for _, c in pending]

    # -- accounting (before anything runs) ---------------------------------------------------

    def account(self, conn: Connection, plan: Plan) -> list[dict[str, Any]]:
        """Rows written since the migration into what the rollback removes or rewrites, and
        conflicts (captured rows written since), per object."""
        self.entries = []
        for capture in self.captures:
            if capture.usable:
                self.entries.append(_account_capture(conn, capture))
            elif capture.kind is not CaptureKind.SEQUENCE:
                self.entries.append(
                    {
                        "object": capture.describe(),
                        "version": capture.version,
                        "statement": capture.statement,
                        "action": capture.status,
                        "note": capture.reason,
                    }
                )
        self.entries += _account_removed(conn, plan, self.captures)
        return self.entries

    def conflicts(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e.get("conflicts")]

    def check_conflicts(self) -> None:
        found = self.conflicts()
        if not found or self.on_conflict != "fail":
            return
        listed = "; ".join(
            f"{e['object']} (statement {e['statement']}): {e['conflicts']} row(s)"
            for e in found[:5]
        )
        raise PreconditionError(
            f"rows the migration changed were changed again since ({listed}): restoring them "
            "would overwrite those later changes. Pass --on-conflict keep-current (leave them) "
            "or --on-conflict restore-captured (overwrite them)"
        )

    # -- the hook the transaction calls -------------------------------------------------------

    def begin(self, conn: Connection) -> None:
        """First thing in the transaction: freeze the conflicting keys (row versions change as
        soon as the rollback writes)."""
        for capture in self.captures:
            if (
                capture.usable
                and capture.kind.needs_key
                and capture.kind is not (CaptureKind.DROP_COLUMN)
            ):
                _freeze_conflicts(conn, capture)

    def before_statement(self, conn: Connection, number: int) -> None:
        for capture in self.before.pop(number, []):
            self._restore(conn, capture)

    def finish(self, conn: Connection) -> None:
        for capture in self.at_end:
            self._restore(conn, capture)
        self.at_end = []
        ids = [c.id for c in self.captures]
        if ids:
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET status = 'restored', restored_at = now() WHERE id = ANY(%s)"
                ).format(catalog_ident()),
                [ids],
            )

    def _restore(self, conn: Connection, capture: Capture) -> None:
        note = restore_one(conn, capture, self.on_conflict)
        self.done.append(capture.id)
        for entry in self.entries:
            if entry.get("capture") == capture.id:
                entry["restored"] = note


def prepare_restore(
    conn: Connection, sources: list[RollbackSource], migrations_dir: Path, on_conflict: str
) -> DataRestore:
    """The restore steps for these rollbacks, from the captures in the target database."""
    captures = load_captures(conn, [s.migration.version for s in sources])
    restore = DataRestore(captures=captures, on_conflict=on_conflict)
    if not captures:
        return restore
    for source in sources:
        forward = _forward_statements(source, migrations_dir)
        restore.add(source.migration.version, groups_of(source), forward)
    return restore


# --- accounting queries ---------------------------------------------------------------------


def _since(xid: int) -> sql.Composable:
    """`xmin` newer than the migration's transaction: written after it."""
    return sql.SQL("age(t.xmin) < age(xid({}::xid8))").format(sql.Literal(str(xid)))


def _key_match(capture: Capture, left: str, right: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k)
        )
        for k in capture.key
    )


def _exists(conn: Connection, capture: Capture) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", [capture.target.as_string(conn)]).fetchone()
    return bool(row and row[0])


def _conflict_query(capture: Capture) -> sql.Composable | None:
    """Captured keys whose row was written since the migration (or, for removed rows, exists
    again); None when there is nothing to conflict with."""
    if not capture.key or capture.kind is CaptureKind.DROP_COLUMN:
        return None  # the app could not write a dropped column: refilling it overwrites nothing
    assert capture.xid is not None
    match = _key_match(capture, "t", "c")
    keys = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in capture.key)
    if capture.kind.removes_rows:
        where = match
    else:
        where = sql.SQL("{} AND {}").format(match, _since(capture.xid))
    return sql.SQL("SELECT {} FROM {} c JOIN {} t ON {}").format(
        keys, capture.kept, capture.target, where
    )


def _account_capture(conn: Connection, capture: Capture) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "object": capture.describe(),
        "version": capture.version,
        "statement": capture.statement,
        "capture": capture.id,
        "action": "restore",
        "captured_rows": capture.rows,
    }
    if capture.kind is CaptureKind.SEQUENCE:
        return entry
    if not _exists(conn, capture):
        entry["note"] = "the table does not exist now"
        return entry
    assert capture.xid is not None
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(capture.target, _since(capture.xid))
    ).fetchone()
    entry["rows_written_since"] = int(row[0]) if row else 0
    query = _conflict_query(capture)
    if query is not None:
        row = conn.execute(sql.SQL("SELECT count(*) FROM ({}) x").format(query)).fetchone()
        entry["conflicts"] = int(row[0]) if row else 0
    return entry


def _account_removed(conn: Connection, plan: Plan, captures: list[Capture]) -> list[dict[str, Any]]:
    """Rows written since the migration into tables and columns the rollback removes."""
    xids = {c.version: c.xid for c in captures if c.xid is not None}
    entries = []
    for planned in plan.all:
        xid = xids.get(planned.version)
        if xid is None:
            continue
        for drop in planned.drops:
            if drop.kind not in ("relation", "column"):
                continue
            row = conn.execute(
                "SELECT oid FROM pg_class WHERE oid = to_regclass(%s) AND relkind IN ('r', 'p')",
                [sql.Identifier(*drop.name).as_string(conn)],
            ).fetchone()
            if row is None or row[0] is None:
                continue
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(
                    sql.Identifier(*drop.name), _since(xid)
                )
            ).fetchone()
            entries.append(
                {
                    "object": drop.describe(),
                    "version": planned.version,
                    "statement": planned.number,
                    "action": "removed by the rollback",
                    "rows_written_since": int(count[0]) if count else 0,
                }
            )
    return entries


# --- restoring -------------------------------------------------------------------------------


def _conflicts_table(capture: Capture) -> sql.Identifier:
    return sql.Identifier(_conflicts_name(capture))


def _conflicts_name(capture: Capture) -> str:
    return f"migration_rollback_conflicts_{capture.id}"


def _freeze_conflicts(conn: Connection, capture: Capture) -> None:
    query = _conflict_query(capture)
    if query is None or not _exists(conn, capture):
        return
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
            _conflicts_table(capture), query
        )
    )


def _not_conflicting(
    conn: Connection, capture: Capture, alias: str, on_conflict: str
) -> sql.Composable:
    """`AND NOT EXISTS (conflicting key)` under keep-current; nothing otherwise."""
    if on_conflict != "keep-current" or _conflict_query(capture) is None:
        return sql.SQL("")
    row = conn.execute(
        "SELECT to_regclass(%s)",
        [sql.Identifier("pg_temp", _conflicts_name(capture)).as_string(conn)],
    ).fetchone()
    if row is None or row[0] is None:
        return sql.SQL("")
    return sql.SQL(" AND NOT EXISTS (SELECT 1 FROM pg_temp.{} x WHERE {})").format(
        _conflicts_table(capture), _key_match(capture, "x", alias)
    )


def _column_type(conn: Connection, capture: Capture, column: str) -> str | None:
    row = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s AND attnum > 0 AND NOT attisdropped",
        [capture.target.as_string(conn), column],
    ).fetchone()
    return str(row[0]) if row else None


def restore_one(conn: Connection, capture: Capture, on_conflict: str) -> str:
    """Put back what one capture kept; returns what was done, for the result."""
    if capture.kind is CaptureKind.SEQUENCE:
        return _restore_sequence(conn, capture)
    if not _exists(conn, capture):
        return "skipped: the table does not exist at this point of the rollback"
    if capture.kind is CaptureKind.INSERT:
        return _delete_inserted(conn, capture, on_conflict)
    if capture.kind is CaptureKind.ALTER_TYPE:
        return _restore_type(conn, capture, on_conflict)
    if capture.kind is CaptureKind.DROP_COLUMN:
        return _refill_column(conn, capture)
    if capture.kind is CaptureKind.UPDATE:
        return _write_back(conn, capture, capture.values, on_conflict)
    return _put_rows_back(conn, capture, on_conflict)


def _write_back(
    conn: Connection, capture: Capture, columns: Sequence[str], on_conflict: str
) -> str:
    live = [c for c in columns if _column_type(conn, capture, c) is not None]
    if not live:
        return "skipped: the columns do not exist at this point of the rollback"
    query = sql.SQL("UPDATE {} t SET ({}) = ROW({}) FROM {} c WHERE {}{}").format(
        capture.target,
        sql.SQL(", ").join(sql.Identifier(c) for c in live),
        sql.SQL(", ").join(_kept(capture, c) for c in live),
        capture.kept,
        _key_match(capture, "t", "c"),
        _not_conflicting(conn, capture, "t", on_conflict),
    )
    cur = conn.execute(query)
    return f"{cur.rowcount} row(s) written back"


def _kept(capture: Capture, column: str) -> sql.Composable:
    """A kept value as the column's recorded type (values of user-defined types are kept as
    text, see capture._user_typed; for the others the cast changes nothing)."""
    return sql.SQL("c.{}::{}").format(sql.Identifier(column), sql.SQL(capture.type_of(column)))


def _put_rows_back(conn: Connection, capture: Capture, on_conflict: str) -> str:
    done = []
    missing: sql.Composable = sql.SQL("")
    if capture.key:
        if on_conflict == "restore-captured" or capture.kind is CaptureKind.MERGE:
            values = capture.values
            if values:
                done.append(_write_back(conn, capture, values, on_conflict))
        missing = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})").format(
            capture.target, _key_match(capture, "t", "c")
        )
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in capture.columns)
    cur = conn.execute(
        sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} c{}").format(
            capture.target,
            columns,
            sql.SQL(", ").join(_kept(capture, c) for c in capture.columns),
            capture.kept,
            missing,
        )
    )
    done.append(f"{cur.rowcount} row(s) put back")
    return "; ".join(done)


def _delete_inserted(conn: Connection, capture: Capture, on_conflict: str) -> str:
    cur = conn.execute(
        sql.SQL("DELETE FROM {} t USING {} c WHERE {}{}").format(
            capture.target,
            capture.kept,
            _key_match(capture, "t", "c"),
            _not_conflicting(conn, capture, "t", on_conflict),
        )
    )
    return f"{cur.rowcount} inserted row(s) deleted"


def _refill_column(conn: Connection, capture: Capture) -> str:
    column = capture.columns[-1]
    notes = []
    if _column_type(conn, capture, column) is None:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                capture.target, sql.Identifier(column), sql.SQL(capture.type_of(column))
            )
        )
        notes.append(f"column {column} re-added as {capture.type_of(column)}")
    notes.append(_write_back(conn, capture, [column], "restore-captured"))
    return "; ".join(notes)


def _restore_type(conn: Connection, capture: Capture, on_conflict: str) -> str:
    """The prior type with the exact prior values, in one table rewrite."""
    column = capture.columns[-1]
    prior = capture.type_of(column)
    current = _column_type(conn, capture, column)
    if current is None:
        return "skipped: the column does not exist at this point of the rollback"
    if current == prior:  # the rollback SQL already converted it back: fix the values
        return _write_back(conn, capture, [column], on_conflict)
    function = sql.Identifier(f"migration_rollback_prior_{capture.id}")
    _lookup_function(conn, capture, column, prior, function, on_conflict)
    conn.execute(
        sql.SQL("CREATE INDEX ON {} ({})").format(
            capture.kept, sql.SQL(", ").join(sql.Identifier(k) for k in capture.key)
        )
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING pg_temp.{}({}, {}::text)").format(
            capture.target,
            sql.Identifier(column),
            sql.SQL(prior),
            function,
            sql.SQL(", ").join(sql.Identifier(k) for k in capture.key),
            sql.Identifier(column),
        )
    )
    conn.execute(sql.SQL("DROP FUNCTION pg_temp.{}").format(function))
    return f"type {current} -> {prior}, {capture.rows} captured value(s) restored exactly"


def _lookup_function(
    conn: Connection,
    capture: Capture,
    column: str,
    prior: str,
    function: sql.Identifier,
    on_conflict: str,
) -> None:
    """pg_temp.f(key..., current::text) -> the captured value, or the current one cast back.

    USING cannot hold a subquery, but it can call a function that looks the value up.
    """
    keys = list(capture.key)
    arguments = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f"k_{i}"), sql.SQL(capture.type_of(k)))
        for i, k in enumerate(keys)
    )
    match = sql.SQL(" AND ").join(
        sql.SQL("c.{} = {}").format(sql.Identifier(k), sql.Identifier(f"k_{i}"))
        for i, k in enumerate(keys)
    )
    skip: sql.Composable = sql.SQL("")
    if on_conflict == "keep-current" and _conflict_query(capture) is not None:
        skip = _not_conflicting(conn, capture, "c", on_conflict)
    body = sql.SQL(
        "DECLARE kept {prior}; BEGIN SELECT c.{col}::{prior} INTO kept FROM {table} c "
        "WHERE {match}{skip}; "
        "IF FOUND THEN RETURN kept; END IF; RETURN current_value::{prior}; END"
    ).format(
        prior=sql.SQL(prior),
        col=sql.Identifier(column),
        table=capture.kept,
        match=match,
        skip=skip,
    )
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION pg_temp.{}({}, current_value text) RETURNS {} LANGUAGE plpgsql "
            "STABLE AS {}"
        ).format(function, arguments, sql.SQL(prior), sql.Literal(body.as_string(conn)))
    )


def _restore_sequence(conn: Connection, capture: Capture) -> str:
    detail = capture.detail or {}
    sequence = sql.Identifier(capture.schema, capture.table)
    row = conn.execute(
        "SELECT last_value FROM pg_sequences WHERE schemaname = %s AND sequencename = %s",
        [capture.schema, capture.table],
    ).fetchone()
    if row is None:
        return "skipped: the sequence does not exist"
    if row[0] != detail.get("after"):
        return f"left at {row[0]}: used since the migration (it moved it to {detail.get('after')})"
    before = detail.get("before")
    if before is None:
        conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sequence))
        return "restarted (it had never been used before the migration)"
    conn.execute(
        sql.SQL("SELECT setval({}, %s, true)").format(sql.Literal(sequence.as_string(conn))),
        [before],
    )
    return f"set back to {before}"
