"""Why a forward migration failed on the shadow database: a classified cause. Pure, no I/O.

The replay goes on past a failed migration, so each failure needs a cause a reader can act on:

- `depends_on`: it refers to an object an earlier migration that failed would have created
  (fix that one first; this one may be fine);
- `missing_extension`: an extension neither the server nor a stand-in can provide;
- `missing_platform_object`: a Supabase object (auth, storage, realtime, vault, cron, net...)
  or role the baseline does not have;
- `other_major`: syntax or a function of another PostgreSQL major than the shadow server's;
- `created_later`: the missing object is made only by a later migration (out of order);
- `not_created`: no migration of the project makes the missing object at all: it was made
  outside them (dashboard, SQL editor), so no replay of the migrations can have it;
- `migration_error`: anything else, an error in the migration itself.

The last two need what every migration makes (placement.py, from made.py's reading of the
parsed scripts); a name that code the tool cannot read may make (a DO block, dynamic SQL) is
never said to be not created.

Decided from the SQLSTATE and the server's message (whose wording PostgreSQL keeps stable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from migration_rollback.verify.cause import (
    CAUSE_KINDS,
    UNDEFINED,
    Cause,
    CauseKind,
    last_part,
    schema_of,
    unquote,
)
from migration_rollback.verify.placement import Placement, placed_cause

# Schemas and roles the Supabase platform owns (objects there come from the platform, not from
# a project's migrations).
PLATFORM_SCHEMAS = frozenset(
    {"auth", "storage", "realtime", "_realtime", "vault", "graphql", "graphql_public",
     "supabase_functions", "net", "cron", "pgsodium", "pgsodium_masks", "pgmq", "pgtle",
     "extensions", "supabase_migrations", "pgbouncer", "_analytics", "_supavisor"}
)  # fmt: skip
PLATFORM_ROLES = frozenset(
    {"anon", "authenticated", "service_role", "authenticator", "supabase_admin",
     "supabase_auth_admin", "supabase_storage_admin", "supabase_realtime_admin",
     "supabase_replication_admin", "supabase_read_only_user", "supabase_functions_admin",
     "dashboard_user", "pgbouncer", "postgres", "pgsodium_keyiduser", "pgsodium_keyholder",
     "pgsodium_keymaker", "pgtle_admin", "supabase_etl_admin", "supabase_privileged_role"}
)  # fmt: skip

# Built-in functions by the PostgreSQL major that added them (a call on an older server fails
# with undefined_function).
FUNCTIONS_SINCE: Mapping[str, int] = {
    "gen_random_uuid": 13, "trim_scale": 13, "min_scale": 13,
    "string_to_table": 14, "trim_array": 14, "date_bin": 14, "unistr": 14, "range_agg": 14,
    "bit_count": 14, "ltrimmultirange": 14,
    "any_value": 16, "random_normal": 16, "pg_input_is_valid": 16, "pg_input_error_info": 16,
    "array_sample": 16, "array_shuffle": 16, "erf": 16, "erfc": 16, "system_user": 16,
    "json_scalar": 16, "json_serialize": 16,
    "uuid_extract_timestamp": 17, "uuid_extract_version": 17, "to_bin": 17, "to_oct": 17,
    "json_table": 17, "json_query": 17, "json_exists": 17, "json_value": 17,
    "uuidv7": 18, "uuidv4": 18, "casefold": 18, "array_sort": 18, "array_reverse": 18,
}  # fmt: skip

_SYNTAX = frozenset({"42601"})
# The major of the parser migrations go through before they are sent (pglast 8 = PostgreSQL 17).
PARSER_MAJOR = 17


def missing_names(message: str) -> list[str]:
    """The names an undefined-object message is about, unquoted (`public.t`, `t`, `f`, ...)."""
    found: list[str] = []
    m = re.match(r"^(?:function|procedure) (\S+?)\(", message)
    if m:
        found.append(unquote(m.group(1)))
    m = re.match(r"^operator does not exist: (.+)$", message)
    if m:
        found.extend(unquote(t) for t in re.split(r"\s+", m.group(1)) if re.match(r"^[\w.\"]+$", t))
    found.extend(unquote(q) for q in re.findall(r'"([^"]+)"', message))
    m = re.match(r"^column (\w+)\.(\w+) does not exist", message)
    if m:
        found.extend([m.group(1), m.group(2)])
    return [n for n in dict.fromkeys(found) if n]


def extension_in(message: str) -> str | None:
    """The extension a 'cannot create extension' message names, if it is one."""
    patterns = (
        r'^extension "([^"]+)" is not available',
        r'could not open extension control file "[^"]*/([^/"]+)\.control"',
        r'^extension "([^"]+)" has no installation script',
        r'^required extension "([^"]+)" is not installed',
        r'^could not access file "\$libdir/([^"]+)"',
        r'^extension "([^"]+)" \(required by [^)]*\) is not available',
    )
    for pattern in patterns:
        m = re.search(pattern, message)
        if m:
            return m.group(1)
    if re.match(r"^can only create extension in database ", message):
        return "pg_cron"
    return None


def classify_failure(
    sqlstate: str | None,
    message: str,
    *,
    server_major: int | None = None,
    failed: Mapping[str, Iterable[str]] | None = None,
    context: str = "",
    in_body: bool = False,
    placement: Placement | None = None,
) -> Cause:
    """The cause of one failed statement.

    `failed` maps each earlier migration that failed to the names of what it would have
    created (qualified and bare); a missing object among them makes this one depend on it.
    `context` is the server's error context ("compilation of PL/pgSQL function …"), and
    `in_body` says the error's position falls inside a DO block's or function's code: pglast
    never parsed that code, so its syntax errors are the migration's own on any major.
    `placement` (None: unknown) tells a missing object no migration makes, or only a later one.
    """
    state = sqlstate or ""
    extension = extension_in(message)
    if extension is not None:
        return Cause(
            "missing_extension",
            f"extension {extension} is not available on the shadow server and has no stand-in",
            extension,
        )
    names = missing_names(message) if state in UNDEFINED else []
    for migration, created in (failed or {}).items():
        hit = _depends(names, created)
        if hit is not None:
            return Cause(
                "depends_on",
                f"depends on {migration}, which failed (it would have created {hit})",
                migration,
            )
    platform = _platform_object(state, message, names)
    if platform is not None:
        return platform
    body = in_body or _PLPGSQL_CONTEXT.search(context) is not None
    newer = None if body else _other_major(state, message, names, server_major)
    if newer is not None:
        return newer
    placed = placed_cause(state, message, placement, failed or {}) if placement else None
    if placed is not None:
        return placed
    return Cause("migration_error", f"an error in the migration itself [{state or 'no SQLSTATE'}]")


def _depends(missing: list[str], created: Iterable[str]) -> str | None:
    """The missing name `created` has: as is, bare against any schema, or qualified against
    a bare name made in no other schema (made unqualified, or by code only read as text)."""
    made = {c.lower() for c in created}
    lasts = {last_part(c) for c in made}
    for name in missing:
        lowered, schema = name.lower(), schema_of(name)
        if lowered in made or (schema is None and last_part(name) in lasts):
            return name
        elsewhere = any(
            last_part(c) == last_part(name) and schema_of(c) not in (None, schema) for c in made
        )
        if schema is not None and last_part(name) in made and not elsewhere:
            return name
    return None


def _platform_object(state: str, message: str, names: list[str]) -> Cause | None:
    if not names:
        return None
    if state == "42704" and message.startswith("role "):
        role = names[0]
        if role in PLATFORM_ROLES:
            return Cause(
                "missing_platform_object", f"the platform role {role} is not on the shadow", role
            )
        return None
    for name in names:
        schema = schema_of(name)
        if schema in PLATFORM_SCHEMAS or (state == "3F000" and name.lower() in PLATFORM_SCHEMAS):
            return Cause(
                "missing_platform_object",
                f"{name} is a Supabase platform object the shadow's baseline does not have",
                name,
            )
    return None


def in_code_body(statement: str, bodies: Iterable[str], position: int | None) -> bool:
    """Whether the server's error position (1-based, in the statement as sent) falls inside
    one of the statement's code bodies (the server moves a PL/pgSQL syntax error's position
    there and then gives no context)."""
    if not position:
        return False
    for body in bodies:
        start = statement.find(body) if body else -1
        if start >= 0 and start < position <= start + len(body):
            return True
    return False


_PLPGSQL_CONTEXT = re.compile(r"\bPL/pgSQL function\b")


def _other_major(
    state: str, message: str, names: list[str], server_major: int | None
) -> Cause | None:
    on = f"PostgreSQL {server_major}" if server_major else "the shadow server's PostgreSQL"
    if state in _SYNTAX and message.startswith("syntax error") and server_major != PARSER_MAJOR:
        # The statement parsed with pglast (PostgreSQL 17's parser) before it was sent: the
        # server's own parser is older or newer. (Another 42601, e.g. PL/pgSQL's "unexpected
        # end of function definition", or a server of the parser's major: the migration's own.)
        return Cause(
            "other_major",
            f"syntax the migration's parser accepts but {on} rejects ({message}): written for "
            "another PostgreSQL major?",
        )
    if state == "42883" and names:
        since = FUNCTIONS_SINCE.get(last_part(names[0]), 0)
        if since and (server_major is None or since > server_major):
            return Cause(
                "other_major",
                f"{last_part(names[0])}() exists from PostgreSQL {since} on; the shadow runs {on}",
                last_part(names[0]),
            )
    if state == "22023" and message.startswith("unrecognized parameter"):
        return Cause("other_major", f"{message}: a storage parameter {on} does not know")
    return None


__all__ = [
    "CAUSE_KINDS", "Cause", "CauseKind", "Placement", "classify_failure", "extension_in",
    "in_code_body", "missing_names",
]  # fmt: skip
