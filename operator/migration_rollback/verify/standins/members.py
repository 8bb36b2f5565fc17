"""What the replay knows about the stand-ins' members, read from the shadow's catalogs.

A migration may use a stand-in (its verdict names the stand-ins it relied on, `uses`), may
change a member (a grant on `cron.job`: the round trip compares the members' state before and
after, `member_state`), and may run code on any DDL through an event trigger (then every
migration reads member state: `Members.event_triggers`). Members are what pg_depend records
with an 'e' dependency on the extension, so the real extensions and the stand-ins (installed as
extensions, install.py) are read the same way.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import psycopg

from migration_rollback.verify import catalog
from migration_rollback.verify.batch import Fetched, Target
from migration_rollback.verify.standins.reach import words

# The extensions asked for ($1), or when NULL the stand-ins: installed, yet not among the server's
# available extensions ($2). Chosen in the query, it costs no round trip of its own.
_STANDINS = "CASE WHEN $1 IS NULL THEN NOT x.extname = ANY($2) ELSE x.extname = ANY($1) END"

# The state of every member of the given extensions: what a migration could change in them
# (privileges, owner, columns, policies, triggers, indexes, function bodies and settings), as
# a JSON object: what a rollback can put back on a member like on any object (privileges, as
# aclitems, defaults spelled out; owner; a function's settings) apart from the rest (see
# verify/stateful/members.py).
_MEMBER_STATE = (
    """
SELECT x.extname, o.type || ' ' || o.identity,
  CASE d.classid
  WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(c.relacl, pg_catalog.acldefault(
        CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::pg_catalog."char", c.relowner)
      )::pg_catalog.text[],
      'owner', pg_catalog.pg_get_userbyid(c.relowner),
      'rest', pg_catalog.concat_ws('|', c.relrowsecurity, c.relforcerowsecurity,
      (SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid,
         a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(a.attacl::pg_catalog.text, ''), ', '
         ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT pg_catalog.string_agg(p.polname || ' ' || p.polcmd::pg_catalog.text || ' '
         || p.polroles::pg_catalog.text
         || ' ' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || ' '
         || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''), ', '
         ORDER BY p.polname) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),
      (SELECT pg_catalog.string_agg(t.tgname || ' ' || t.tgenabled::pg_catalog.text, ', '
         ORDER BY t.tgname)
       FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
      (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), ', '
         ORDER BY 1) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)))::pg_catalog.text
    FROM pg_catalog.pg_class c WHERE c.oid = d.objid)
  WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(p.proacl, pg_catalog.acldefault('f'::pg_catalog."char", p.proowner)
      )::pg_catalog.text[],
      'owner', pg_catalog.pg_get_userbyid(p.proowner), 'config', p.proconfig,
      'rest', pg_catalog.concat_ws('|', pg_catalog.md5(p.prosrc), p.prosecdef,
        p.provolatile))::pg_catalog.text
    FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
  WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(n.nspacl, pg_catalog.acldefault('n'::pg_catalog."char", n.nspowner)
      )::pg_catalog.text[],
      'owner', pg_catalog.pg_get_userbyid(n.nspowner))::pg_catalog.text
    FROM pg_catalog.pg_namespace n WHERE n.oid = d.objid)
  WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(t.typacl, pg_catalog.acldefault('T'::pg_catalog."char", t.typowner)
      )::pg_catalog.text[],
      'owner', pg_catalog.pg_get_userbyid(t.typowner))::pg_catalog.text
    FROM pg_catalog.pg_type t WHERE t.oid = d.objid)
  ELSE '' END
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid
CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) o
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
  AND """
    + _STANDINS
)


@functools.lru_cache(maxsize=4096)
def _canonical(state: str | None) -> str:
    """A member's state with its privileges as a set (a revoke and a re-grant reorder them).
    Cached: the same states come back at every read."""
    if not state:
        return ""
    value = json.loads(state)
    value["acl"] = sorted(value.get("acl") or ())
    return json.dumps(value, sort_keys=True)


# Names a migration uses a stand-in by: its own schemas (`cron.` ...), and the functions and
# types it puts in a shared schema (`vector`, `jsonb_matches_schema(` ...).
_MEMBER_NAMES = (
    """
SELECT m.*, EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.proname = m.name
                   AND p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace) FROM (
SELECT x.extname, o.type, o.schema,
  CASE WHEN d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       THEN (SELECT p.proname::pg_catalog.text FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
       ELSE coalesce(o.name, o.identity) END AS name
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid
CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) o
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
  AND """
    + _STANDINS
    + "\n) m"
)
_EVENT_TRIGGERS = "SELECT evtname FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D'"
_SHARED_SCHEMAS = frozenset({"public", "extensions", "pg_catalog"})
_NAMED_KINDS = frozenset({"function", "type", "domain", "composite type", "table", "view"})


class Members(NamedTuple):
    """The stand-ins' members, by name."""

    names: dict[str, frozenset[str]]  # per stand-in, the names that show a use (`uses`)
    words: frozenset[str]  # every word of their names, schemas and extensions (`reach`)
    event_triggers: frozenset[str]  # enabled ones: code any DDL may run (`reach`)


def member_state(
    conn: psycopg.Connection[Any], available: Iterable[str], names: Iterable[str] | None = None
) -> dict[tuple[str, str], str]:
    """(extension, member) -> its state, for the given (default: all) stand-ins."""
    with conn.pipeline():  # one round trip with the setting around it
        pending = queue_member_state(conn, available, names)
    return pending()


class PendingMemberState:
    """`member_state` sent in a pipeline or a batch: call it (after either ran) for the state."""

    def __init__(self, cursor: Fetched) -> None:
        self.cursor = cursor

    def __call__(self) -> dict[tuple[str, str], str]:
        rows = self.cursor.fetchall()
        return {(str(ext), str(member)): _canonical(state) for ext, member, state in rows}


def queue_member_state(
    conn: Target, available: Iterable[str], names: Iterable[str] | None = None
) -> PendingMemberState:
    """`member_state` sent (in the caller's pipeline or batch, if any); call the result for it."""
    # Run twice per round trip (and members once): prepared once, it skips a parse and plan
    # each time. Under the catalog reads' settings (catalog.settings), not the session's: the
    # state before is read in a reset session, the state after in the rollback's, whose
    # search_path may put a type named text first (format_type, pg_get_indexdef and the
    # policies' expressions then qualified pg_catalog's: every member differed), or quote
    # every identifier.
    with catalog.settings(conn):
        cursor = catalog.execute(conn, _MEMBER_STATE, _which(names, available))
    return PendingMemberState(cursor)


def read_members(conn: psycopg.Connection[Any], available: Iterable[str]) -> Members:
    """What names the stand-ins' members, and the enabled event triggers: one round trip."""
    with conn.pipeline(), catalog.unquoted(conn):
        named = catalog.execute(conn, _MEMBER_NAMES, _which(None, available))
        triggers = catalog.execute(conn, _EVENT_TRIGGERS)
    rows = named.fetchall()
    found = {w for ext, _k, schema, name, _b in rows for w in words(f"{ext} {schema} {name}")}
    enabled = frozenset(str(name) for (name,) in triggers.fetchall())
    return Members(_names_used_by(rows), frozenset(found), enabled)


def _which(names: Iterable[str] | None, available: Iterable[str]) -> list[tuple[Any, str]]:
    """The arguments of `_STANDINS`: these extensions, or (None) the stand-ins."""
    wanted = None if names is None else list(names)
    return [(wanted, "text[]"), (sorted(available), "text[]")]


def _names_used_by(rows: list[Any]) -> dict[str, frozenset[str]]:
    """Per stand-in, from its members' rows: the names that show a migration uses it."""
    out: dict[str, set[str]] = {}
    # An extension's own schemas: those it created, and those only its members live in
    # (vault, pgsodium, graphql: created by the platform, then filled by the extension).
    own = {(str(ext), str(name)) for ext, kind, _s, name, _b in rows if kind == "schema"}
    users: dict[str, set[str]] = {}
    for ext, _kind, schema, _name, _builtin in rows:
        if schema is not None:
            users.setdefault(str(schema), set()).add(str(ext))
    for schema, exts in users.items():
        if len(exts) == 1 and schema not in _SHARED_SCHEMAS:
            own.add((next(iter(exts)), schema))
    for ext, schema in own:
        out.setdefault(ext, set()).add(f"{schema}.")  # anything qualified with its own schema
    for ext, kind, schema, name, builtin in rows:
        if (str(ext), str(schema)) in own or name is None:
            continue
        names = out.setdefault(str(ext), set())
        if kind in _NAMED_KINDS:
            names.add(f"{schema}.{name}")
            if not builtin:  # a bare `sign(` is PostgreSQL's own more often than pgjwt's
                names.add(str(name))
        elif kind == "operator":
            names.add(f"OPERATOR({schema}.")
    return {k: frozenset(v) for k, v in out.items()}


def uses(text: str, names: Mapping[str, frozenset[str]]) -> list[str]:
    """The stand-ins a piece of SQL refers to, by the names of their members."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z_][a-z0-9_$]*", lowered))
    found: list[str] = []
    for ext, members in names.items():
        for member in members:
            if "." in member or member.startswith("OPERATOR("):
                pattern = r"(?<![a-z0-9_$])" + re.escape(member.lower())
                hit = member.lower() in lowered and re.search(pattern, lowered) is not None
            else:
                hit = member.lower() in words
            if hit:
                found.append(ext)
                break
    return sorted(found)
