"""Which objects did a transaction touch? Event triggers write it down as the DDL runs.

Comparing whole snapshots before and after each migration costs O(schema) per migration, so the
replay of a project would cost O(N²). Instead the shadow database gets two event triggers
(`ddl_command_end`, `sql_drop`) that append what each command created, altered or dropped to a
session-local temporary table. A check then re-reads only the *families* of those objects (a
table with its columns, constraints, indexes, triggers, policies and rules; a function; a type
with its domain constraints; a few small kinds whole) and compares them with the kept model
(`model.py`). Rows written in a rolled-back subtransaction vanish from the temporary table with
it, so after `ROLLBACK TO SAVEPOINT` the table lists exactly what the forward migration touched.

The scope is computed by the server in the same call as the scoped read (scoped_check.py: one
statement): `pg_temp._mr_refs` mirrors which family each object of the model belongs to, so
that the families of dropped objects (whose catalog rows are gone) are found too.

Event triggers do not report every command; the gaps are covered explicitly:
- GRANT/REVOKE come without object ids: their targets are read from the statements' parse trees
  (when a GRANT ran where no top-level statement shows it, e.g. in a DO block, the check says
  so and the caller compares full snapshots instead);
- ALTER DEFAULT PRIVILEGES comes without ids: the default privileges are re-read whole;
- commands on event triggers are never reported: event triggers are re-read whole every time
  the kept model or the database holds one (scoped_check.py);
- any other command reported without an object makes the check ask for a full comparison, as
  does ALTER EXTENSION (reported as the extension, whatever member ADD/DROP changed), and so do
  the statements no event trigger reports (REASSIGN OWNED, ALTER ROLE ... RENAME, DROP OWNED's
  revokes, writes to system catalogs), at the top level or in code the migration runs (a DO
  block, a function it calls, dynamic SQL): hidden_commands.py; and in code PostgreSQL runs
  for it where its text does not show it (a trigger, a rule, an event trigger, a DEFAULT, a
  CHECK, an operator...): the server says which functions ran, read in the same call
  (ran_code.py).
Creating event triggers needs a superuser; without one, `install` returns False and the caller
compares full snapshots at every migration (correct, O(schema) each).

The capture and scope tables are emptied at each commit (ON COMMIT DELETE ROWS): no check needs
their rows past its transaction, and a DELETE left dead rows that every later check scanned
again (temporary tables are never vacuumed): 26 pages of them after 300 migrations, growing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from pglast.enums.parsenodes import GrantTargetType, ObjectType
from psycopg import sql

from migration_rollback.verify import catalog, hidden_commands, ran_code, scoped_check
from migration_rollback.verify.batch import Fetched, Target
from migration_rollback.verify.scoped_check import CAPTURE_TABLE, REFS_TABLE
from migration_rollback.verify.snapshot import (
    HELPER_SCHEMA,
    Scope,
    Snapshot,
    SnapshotObject,
    kinds_for,
    scoped,
    scoped_snapshot,
)
from migration_rollback.verify.snapshot.query import Kind
from migration_rollback.verify.snapshot.relation_kinds import PARTITION_PARENT

__all__ = ["CAPTURE_TABLE", "REFS_TABLE"]  # their home is scoped_check, which reads them

# The tables emptied at each commit hold no text column: `name` (command tags, categories and
# group labels are short) has no TOAST table, and each commit truncates every file of these
# tables and rebuilds their indexes (a TOAST table's too): 0.5 ms a commit with text columns,
# 0.18 ms without (server CPU, 1,000 commits).
SESSION_SQL = """
CREATE TEMPORARY TABLE IF NOT EXISTS _mr_capture (
  classid oid, objid oid, objsubid integer, tag name, dropped boolean
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS _mr_scope (category name, oid oid, name name)
  ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS _mr_refs (
  ref text PRIMARY KEY, category text, oid oid, name text
);
CREATE INDEX IF NOT EXISTS _mr_refs_parent ON _mr_refs (name) WHERE category = 'rel';
"""

TRIGGERS_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {HELPER_SCHEMA};
CREATE OR REPLACE FUNCTION {HELPER_SCHEMA}.capture_end() RETURNS event_trigger
  LANGUAGE plpgsql SET search_path = pg_catalog
AS $$
BEGIN
  IF pg_catalog.to_regclass('{CAPTURE_TABLE}') IS NOT NULL THEN
    INSERT INTO {CAPTURE_TABLE}
      SELECT d.classid, d.objid, d.objsubid, d.command_tag, false
      FROM pg_catalog.pg_event_trigger_ddl_commands() d;
  END IF;
END
$$;
CREATE OR REPLACE FUNCTION {HELPER_SCHEMA}.capture_drop() RETURNS event_trigger
  LANGUAGE plpgsql SET search_path = pg_catalog
AS $$
BEGIN
  IF pg_catalog.to_regclass('{CAPTURE_TABLE}') IS NOT NULL THEN
    INSERT INTO {CAPTURE_TABLE}
      SELECT d.classid, d.objid, d.objsubid, 'DROP', true
      FROM pg_catalog.pg_event_trigger_dropped_objects() d;
    -- A column's default dropped with what it used (DROP SEQUENCE/FUNCTION/TYPE ... CASCADE):
    -- its table, still there, changed, and no command names it. Gone with its table: nothing.
    INSERT INTO {CAPTURE_TABLE}
      SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, t.oid, 0, 'DROP', false
      FROM pg_catalog.pg_event_trigger_dropped_objects() d
      CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(
        quote_ident(d.address_names[1]) || '.' || quote_ident(d.address_names[2]))::oid) t(oid)
      WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
        AND t.oid IS NOT NULL;
  END IF;
END
$$;
DROP EVENT TRIGGER IF EXISTS _migration_rollback_capture_end;
DROP EVENT TRIGGER IF EXISTS _migration_rollback_capture_drop;
CREATE EVENT TRIGGER _migration_rollback_capture_end ON ddl_command_end
  EXECUTE FUNCTION {HELPER_SCHEMA}.capture_end();
CREATE EVENT TRIGGER _migration_rollback_capture_drop ON sql_drop
  EXECUTE FUNCTION {HELPER_SCHEMA}.capture_drop();
ALTER EVENT TRIGGER _migration_rollback_capture_end ENABLE ALWAYS;
ALTER EVENT TRIGGER _migration_rollback_capture_drop ENABLE ALWAYS;
"""


def install(conn: psycopg.Connection[Any]) -> bool:
    """Create the capture triggers and the scoped read (snapshot/scoped.py), autocommit; False
    when the role may not (not superuser)."""
    row = conn.execute(
        "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", prepare=False
    ).fetchone()
    if not row or not row[0]:
        return False
    conn.execute(SESSION_SQL, prepare=False)
    conn.execute(TRIGGERS_SQL, prepare=False)
    conn.execute(scoped.function_sql(kinds_for(conn.info.server_version)), prepare=False)
    conn.execute(scoped_check.function_sql(), prepare=False)
    conn.execute(ran_code.function_sql(conn.info.server_version), prepare=False)
    # Every session counts the calls of every function (ran_code.py): this one from now, the
    # next ones by the database's setting, which RESET ALL (a rollback's new session) gives
    # back (a session that began before it has none to go back to: the caller opens another).
    conn.execute("SET track_functions = 'all'", prepare=False)
    conn.execute(
        sql.SQL("ALTER DATABASE {} SET track_functions = 'all'").format(
            sql.Identifier(conn.info.dbname)
        ),
        prepare=False,
    )
    return True


def attach(conn: psycopg.Connection[Any]) -> None:
    """A new session on a database where `install` ran: create its temporary tables."""
    conn.execute(SESSION_SQL, prepare=False)


def clear(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"DELETE FROM {CAPTURE_TABLE}", prepare=False)


# --- GRANT targets, from the parse trees of the statements that ran ---------------------------


@dataclass
class GrantTargets:
    relations: list[tuple[str | None, str]]
    relation_schemas: list[str]
    functions: list[tuple[str | None, str]]
    function_schemas: list[str]
    types: list[tuple[str | None, str]]
    schemas: bool = False
    count: int = 0

    def args(self) -> list[tuple[Any, str]]:
        lists: list[list[str | None]] = [
            [s for s, _ in self.relations],
            [n for _, n in self.relations],
            list(self.relation_schemas),
            [s for s, _ in self.functions],
            [n for _, n in self.functions],
            list(self.function_schemas),
            [s for s, _ in self.types],
            [n for _, n in self.types],
        ]
        out: list[tuple[Any, str]] = [(v, "text[]") for v in lists]
        out.append((self.schemas, "boolean"))
        return out


def _names(node: Any) -> list[str]:
    if isinstance(node, tuple | list):
        return [str(getattr(n, "sval", n)) for n in node]
    sval = getattr(node, "sval", None)
    return [str(sval)] if sval is not None else []


def _split(parts: list[str]) -> tuple[str | None, str]:
    return (parts[-2] if len(parts) >= 2 else None), parts[-1]


_ROUTINES = (ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE)


# GRANT/REVOKE on these fire no event trigger (shared objects): counted, a top-level one made the
# count of those reported match while one run inside code went unseen.
_SHARED = frozenset(
    {ObjectType.OBJECT_DATABASE, ObjectType.OBJECT_TABLESPACE, ObjectType.OBJECT_PARAMETER_ACL}
)


def grant_targets(nodes: Iterable[Any]) -> GrantTargets:
    """What the top-level GRANT/REVOKE statements among `nodes` name; `count`: those the
    event triggers report (the check compares it with theirs)."""
    out = GrantTargets([], [], [], [], [])
    for node in nodes:
        if type(node).__name__ != "GrantStmt" or node.objtype in _SHARED:
            continue
        out.count += 1
        objtype = node.objtype
        in_schema = node.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA
        for obj in node.objects or ():
            if objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_SEQUENCE):
                if in_schema:
                    out.relation_schemas.extend(_names(obj))
                else:
                    out.relations.append((obj.schemaname, obj.relname))
            elif objtype in _ROUTINES:
                if in_schema:
                    out.function_schemas.extend(_names(obj))
                else:
                    out.functions.append(_split(_names(obj.objname)))
            elif objtype == ObjectType.OBJECT_SCHEMA:
                out.schemas = True
            elif objtype in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
                out.types.append(_split(_names(obj)))
    return out


# --- the check ----------------------------------------------------------------------------------


@dataclass
class PendingCheck:
    """A scoped check queued in a batch (one call: scoped_check.py): its rows, once sent, are
    the scope and the objects in it."""

    call: Fetched
    grants: GrantTargets
    kinds: tuple[Kind, ...]
    started: float
    unreported: list[str]
    executed: list[Any]
    code_of: CodeOf
    read_ran: bool  # whether the code that ran was read with it

    def collect(self) -> Check:
        """After the batch ran: the scope, why it may be incomplete, what is in it."""
        scope_rows: list[tuple[Any, ...]] = []
        object_rows: list[tuple[int, str]] = []
        ran_rows: list[tuple[Any, ...]] = []
        for category, oid, name, kind, row in self.call.fetchall():
            if kind is not None:
                object_rows.append((kind, row))
            elif category.startswith(scoped_check.RAN):
                ran_rows.append((category[len(scoped_check.RAN) :], oid, name, row))
            else:
                scope_rows.append((category, oid, name))
        scope, reason = _scope_of(scope_rows, self.grants)
        ran = ran_code.reasons(ran_rows, self.executed, self.code_of) if self.read_ran else None
        hidden = [*self.unreported, *(ran or ())]
        if reason is None and hidden:
            reason = f"commands no event trigger reports: {', '.join(hidden)}"
        found = scoped_snapshot(self.kinds, object_rows, self.started)
        return Check(scope, found, reason, None if ran is None else tuple(ran))


def _scope_of(rows: Iterable[tuple[Any, ...]], grants: GrantTargets) -> tuple[Scope, str | None]:
    """The scope the fill statements reported, and why it may be incomplete (None: it is not)."""
    rels: set[int] = set()
    funcs: set[int] = set()
    types: set[int] = set()
    groups: set[str] = set()
    unexplained: set[str] = set()
    whole: set[str] = set()
    grants_reported = 0
    for category, oid, name in rows:
        if category in ("rel", scoped_check.OUTSIDE):
            rels.add(int(oid))
        elif category == "func":
            funcs.add(int(oid))
        elif category == "type":
            types.add(int(oid))
        elif category == "group":
            groups.add(str(name))
        elif category == "unexplained":
            unexplained.add(str(name))
        elif category == "whole":
            whole.add(str(name))
        elif category == "grants":
            grants_reported = int(name)
    scope = Scope(frozenset(rels), frozenset(funcs), frozenset(types), frozenset(groups))
    reason = None
    if unexplained:
        reason = f"commands reported without objects: {', '.join(sorted(unexplained))}"
    elif whole:
        reason = f"commands reported without the objects they change: {', '.join(sorted(whole))}"
    elif grants_reported != grants.count:
        reason = "GRANT/REVOKE ran inside code (a DO block or a function)"
    return scope, reason


@dataclass(frozen=True)
class Check:
    scope: Scope
    found: Snapshot
    full_reason: str | None = None  # set: the scope may be incomplete; compare everything
    # Why the code the server says ran may have changed what no event trigger reports (in
    # `full_reason` too); None: that code was not read (`queue_check`'s `read_ran`).
    ran_hidden: tuple[str, ...] | None = None


CodeOf = ran_code.CodeOf


def _no_code(_ref: str) -> tuple[str, str] | None:
    return None


def queue_check(
    conn: Target,
    executed: Iterable[Any],
    functions: hidden_commands.Lookup = hidden_commands.no_functions,
    code_of: CodeOf = _no_code,
    catalog_views: Iterable[int] = (),
    *,
    read_ran: bool = True,
    event_triggers: bool = True,
) -> PendingCheck:
    """Fill the scope table, then read what it holds: one statement, in a batch or a pipeline
    (batch.py; collect after it ran: one round trip for the check). It sets the settings the
    catalog reads need while it runs, whatever the session's (scoped_check.py). `functions`:
    the code of the functions the statements may call (hidden_commands.py); `code_of`, of
    those the server says ran and were dropped (ran_code.py, read in the same round trip
    unless `read_ran` is False: the caller reads it later, roundtrip.py); `catalog_views`,
    the OIDs of the kept views that read a system catalog; `event_triggers`, whether the kept
    model holds an event trigger (they are read whole then, or when the database holds one)."""
    started = time.perf_counter()
    executed = list(executed)
    grants = grant_targets(executed)
    writes = ran_code.may_write(executed)
    views = list(catalog_views)
    if grants.count or views:
        args = [*grants.args(), (grants.count, "integer"), (writes, "boolean"), (views, "oid[]")]
        args += [(read_ran, "boolean"), (event_triggers, "boolean")]
        call = catalog.execute(conn, scoped_check.WITH_GRANTS, args)
    else:
        call = catalog.execute(conn, scoped_check.CHECK_SQL[writes, read_ran, event_triggers])
    kinds = kinds_for(conn.info.server_version)
    hidden = hidden_commands.reasons(executed, functions)
    return PendingCheck(call, grants, kinds, started, hidden, executed, code_of, read_ran)


# --- keeping the refs table in step with the model -----------------------------------------------


def _ref_row(obj: SnapshotObject) -> tuple[str, str, int | None, str | None]:
    """The ref's family; a partition's own row names its parent's OID (the fill brings the
    partitions a table had in the model into scope with it)."""
    kind, _, oid = obj.family.partition(":")
    if oid:
        return obj.ref, kind, int(oid), obj.extra_text(PARTITION_PARENT)
    return obj.ref, "group", None, kind


def queue_refs_reset(conn: Target, objects: Iterable[SnapshotObject]) -> None:
    conn.execute(f"DELETE FROM {REFS_TABLE}", prepare=False)
    queue_refs_update(conn, (), objects)


# The refs table is never vacuumed (a temporary table): each commit's upsert leaves dead rows,
# and a scan of it grows with the replay, while the planner, which knows the few hundred refs
# of the baseline, keeps scanning it whole (0.37 ms a commit over 300 migrations). Its key's
# index costs a probe per ref removed; set local to the transaction, which commits next.
_BY_KEY = "SET LOCAL enable_seqscan = off"


def queue_refs_update(
    conn: Target, removed: Sequence[str], added: Iterable[SnapshotObject]
) -> None:
    """Remove refs, then upsert those of the objects given (inside a pipeline or not); with
    refs to remove, inside the transaction block the caller commits next."""
    if removed:
        conn.execute(_BY_KEY, prepare=False)
        catalog.execute(
            conn, f"DELETE FROM {REFS_TABLE} WHERE ref = ANY($1)", [(removed, "text[]")]
        )
    rows = [_ref_row(o) for o in added if o.ref]
    if rows:
        catalog.execute(conn, _UPSERT_REFS, [(json.dumps(rows, ensure_ascii=False), "json")])


# The rows as one JSON array of [ref, category, oid, name]: as four arrays (one literal per
# element, each through psycopg's adapters) writing the statement cost the client 0.11 ms for
# a table's 15 refs, as JSON 0.03 ms. Operators qualified: no search_path changes them.
_ELEMENT = "r OPERATOR(pg_catalog.->>) "
_UPSERT_REFS = (
    f"INSERT INTO {REFS_TABLE} SELECT {_ELEMENT}0, {_ELEMENT}1, ({_ELEMENT}2)::pg_catalog.oid, "
    f"{_ELEMENT}3 FROM pg_catalog.json_array_elements($1) r "
    "ON CONFLICT (ref) DO UPDATE SET category = EXCLUDED.category, "
    "oid = EXCLUDED.oid, name = EXCLUDED.name"
)
