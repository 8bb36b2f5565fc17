"""Triggers on a captured table: the forward statement and its restore both fire them.

A capture keeps the rows of one table. A trigger that fires on the statement (or on the restore's
own writes) and writes anything else (an audit row, a counter in another table, a rule's
rewrite) changes data no capture keeps: such a capture is refused, and the item stays MANUAL
with the trigger's name. A trigger that only assigns fields of NEW (`updated_at := now()`,
sql/trigger_code.py) changes only the captured row: the capture then keeps whole rows, and the
restore runs with those triggers disabled (`ALTER TABLE ... DISABLE TRIGGER <name>`, enabled
again right after, inside the rollback's transaction), so that they do not stamp the restored
rows again. That ALTER TABLE takes a SHARE ROW EXCLUSIVE lock on the table until the rollback
commits: writers wait, readers do not; the rollback already writes those rows. The
alternative, `session_replication_role = replica`, needs a superuser and silences every
trigger of every table, foreign-key checks included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from migration_rollback.runner.capture_cascade import Edge
from migration_rollback.runner.capture_plan import CaptureKind
from migration_rollback.runner.relations import relation_name
from migration_rollback.runner.session import Connection
from migration_rollback.sql.function_code import Lookup, UserFunction
from migration_rollback.sql.trigger_code import assigned_fields, only_row_changes

# pg_trigger.tgtype bits (PostgreSQL's pg_trigger.h)
_ROW, _BEFORE = 1 << 0, 1 << 1
_INSERT, _DELETE, _UPDATE, _TRUNCATE = 1 << 2, 1 << 3, 1 << 4, 1 << 5

# The events the forward statement fires and those its restore fires (restore_steps.py).
EVENTS: dict[CaptureKind, int] = {
    CaptureKind.UPDATE: _UPDATE,
    CaptureKind.UPSERT: _INSERT | _UPDATE | _DELETE,
    CaptureKind.INSERT: _INSERT | _DELETE,
    CaptureKind.DELETE: _DELETE | _INSERT | _UPDATE,
    CaptureKind.MERGE: _INSERT | _UPDATE | _DELETE,
    CaptureKind.TRUNCATE: _TRUNCATE | _INSERT | _UPDATE,
    CaptureKind.DROP_COLUMN: _UPDATE,
    CaptureKind.ALTER_TYPE: _UPDATE,
}
# Rules rewrite the statement itself (ev_type: 2 UPDATE, 3 INSERT, 4 DELETE).
_RULE_EVENTS = {"2": _UPDATE, "3": _INSERT, "4": _DELETE}

_TRIGGERS = """
SELECT t.tgname, t.tgenabled, l.lanname, p.prosrc, p.probin
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
WHERE t.tgrelid = %s AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')
  AND (t.tgtype & %s) <> 0
ORDER BY t.tgname
"""
# Every definition a called name may mean, outside the system schemas (a built-in is judged
# by name in sql/function_code.py).
_FUNCTIONS = """
SELECT n.nspname || '.' || p.proname, l.lanname, p.prosrc, {sql_body}
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
WHERE p.proname = %(name)s AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, p.oid
"""
# pg_proc.prosqlbody exists from PostgreSQL 14; before, every body is text in prosrc.
_SQL_BODY = {True: "p.prosqlbody IS NOT NULL", False: "false"}


@dataclass(frozen=True, slots=True)
class RowTrigger:
    """A trigger that only changes the row it fires for: silenced while the restore writes."""

    name: str
    always: bool  # ENABLE ALWAYS (fires under replication too): put back as it was


def row_triggers(conn: Connection, oid: int, kind: CaptureKind) -> list[RowTrigger] | str:
    """The triggers a capture of this kind must silence on restore, or why it is refused."""
    events = EVENTS.get(kind, 0)
    if not events:
        return []
    rules = conn.execute(
        "SELECT rulename, ev_type FROM pg_rewrite WHERE ev_class = %s AND rulename <> '_RETURN'",
        [oid],
    ).fetchall()
    for name, event in rules:
        if _RULE_EVENTS.get(str(event), 0) & events:
            return f"rule {name} on {_table(conn, oid)} rewrites the writes: they are not kept"
    found = []
    lookup = functions_in(conn)
    triggers = conn.execute(_TRIGGERS, [oid, events]).fetchall()
    for name, enabled, language, source, library in triggers:
        why = only_row_changes(str(source or ""), str(language), lookup, library)
        if why:
            return (
                f"trigger {name} on {_table(conn, oid)} may write other rows ({why}): they "
                "are not kept"
            )
        found.append(RowTrigger(str(name), enabled == "A"))
    return found


def before_row_triggers(conn: Connection, oid: int, columns: Sequence[str]) -> str | None:
    """Why an upsert's rows cannot be known before it runs: a BEFORE INSERT/UPDATE row trigger
    that may assign its conflict or key `columns` (`NEW.email := lower(NEW.email)`) changes the
    values the server compares, or matches the rows back by."""
    rows = conn.execute(
        "SELECT t.tgname, l.lanname, p.prosrc FROM pg_trigger t"
        " JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang"
        " WHERE t.tgrelid = %s AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')"
        " AND (t.tgtype & %s) = %s AND (t.tgtype & %s) <> 0 ORDER BY t.tgname",
        [oid, _ROW | _BEFORE, _ROW | _BEFORE, _INSERT | _UPDATE],
    ).fetchall()
    for name, language, source in rows:
        assigned = assigned_fields(str(source or ""), str(language))
        if assigned is None or assigned & {c.lower() for c in columns}:
            return (
                f"trigger {name} on {_table(conn, oid)} may change the row's conflict or key "
                "columns BEFORE INSERT or UPDATE: the rows the upsert conflicts with are known "
                "only when it runs"
            )
    return None


def cascade_triggers(conn: Connection, edges: Sequence[Edge]) -> dict[int, list[RowTrigger]] | str:
    """The same rule for the child tables a DELETE reaches through foreign keys: a cascaded
    delete fires the child's DELETE triggers (its restore, INSERT ones), a SET NULL its
    UPDATE ones."""
    found: dict[int, list[RowTrigger]] = {}
    for edge in edges:
        kind = CaptureKind.DELETE if edge.deletes else CaptureKind.UPDATE
        triggers = row_triggers(conn, edge.child, kind)
        if isinstance(triggers, str):
            return f"deleting here reaches {_table(conn, edge.child)}, where {triggers}"
        found[edge.child] = triggers
    return found


def functions_in(conn: Connection) -> Lookup:
    """The catalog as sql/function_code.py asks it: a called name's definitions (read once)."""
    seen: dict[tuple[str, ...], list[UserFunction]] = {}
    query = _FUNCTIONS.format(sql_body=_SQL_BODY[conn.info.server_version >= 140000])

    def lookup(name: Sequence[str]) -> Sequence[UserFunction]:
        key = tuple(name)
        if key not in seen:
            schema = key[0] if len(key) > 1 else None
            rows = conn.execute(query, {"name": key[-1], "schema": schema}).fetchall()
            seen[key] = [
                UserFunction(str(r[0]), str(r[1]), str(r[2] or ""), bool(r[3])) for r in rows
            ]
        return seen[key]

    return lookup


def _table(conn: Connection, oid: int) -> str:
    return ".".join(relation_name(conn, oid))


def silenced(
    conn: Connection, table: sql.Identifier, triggers: list[RowTrigger]
) -> list[RowTrigger]:
    """Disable those of the row triggers that are there and enabled at this point of the
    rollback; returns them, for `unsilence`."""
    if not triggers:
        return []
    rows = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = ANY(%s) "
        "AND tgenabled IN ('O', 'A')",
        [table.as_string(conn), [t.name for t in triggers]],
    ).fetchall()
    present = {str(r[0]) for r in rows}
    found = [t for t in triggers if t.name in present]
    _alter(conn, table, found, on=False)
    return found


def unsilence(conn: Connection, table: sql.Identifier, triggers: list[RowTrigger]) -> None:
    _alter(conn, table, triggers, on=True)


def _alter(
    conn: Connection, table: sql.Identifier, triggers: list[RowTrigger], *, on: bool
) -> None:
    for trigger in triggers:
        mode = "ENABLE ALWAYS" if on and trigger.always else "ENABLE" if on else "DISABLE"
        conn.execute(
            sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                table, sql.SQL(mode), sql.Identifier(trigger.name)
            )
        )


def as_detail(triggers: list[RowTrigger]) -> list[dict[str, object]]:
    return [{"name": t.name, "always": t.always} for t in triggers]


def from_detail(detail: dict[str, object] | None) -> list[RowTrigger]:
    listed = (detail or {}).get("row_triggers")
    if not isinstance(listed, list):
        return []
    return [RowTrigger(str(t["name"]), bool(t.get("always"))) for t in listed]
