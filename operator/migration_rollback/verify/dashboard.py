"""Extensions a project enables from the Supabase dashboard, known by what a migration uses.

A project often enables an extension with a click, never in a migration, and its migrations
then use what it provides: `cron.schedule(...)`, a `vector(1536)` column, an `ivfflat` or
`hnsw` index, a `moddatetime` trigger, a `citext` column, a `gin_trgm_ops` index. The replay of
such a migration fails on the shadow, though it ran in production. When the failure names an
object one of these extensions provides, and no migration made it (the cause is not another
migration's failure, nor a later migration's object), the replayer enables the extension the
way the dashboard does (into `extensions`, on the search_path) and replays the migration again,
saying so in the verdict. Pure: the name read from the server's message, looked up here.
"""

from __future__ import annotations

from migration_rollback.verify.cause import Cause, last_part, schema_of
from migration_rollback.verify.causes import missing_names
from migration_rollback.verify.placement import EXTENSION_OF

# Where the dashboard puts an extension whose control file does not fix a schema.
DASHBOARD_SCHEMA = "extensions"

# Platform schemas an extension makes: an object named in one is that extension's.
BY_SCHEMA = {"cron": "pg_cron", "net": "pg_net", "pgmq": "pgmq"}

# Causes that leave room for the dashboard: the object is no migration's (or not known to
# be). Not `depends_on` (an earlier migration that failed would make it) nor `created_later`.
_OPEN = frozenset({"missing_platform_object", "not_created", "migration_error"})


def dashboard_extension(sqlstate: str | None, message: str, cause: Cause) -> str | None:
    """The extension the dashboard would have enabled to give the failed statement what it
    lacks (None: no such extension)."""
    if cause.kind not in _OPEN:
        return None
    if cause.kind == "missing_platform_object":
        by_schema = BY_SCHEMA.get((cause.subject or "").split(".", 1)[0].lower())
        if by_schema is not None:
            return by_schema
    names = missing_names(message) if (sqlstate or "") in _PROVIDED else []
    for name in names:
        if schema_of(name) in _WHERE_IT_GOES and last_part(name) in EXTENSION_OF:
            return EXTENSION_OF[last_part(name)]
    return None


# undefined_object (a type, access method, operator class) and undefined_function: what an
# extension provides (a missing relation or column is never one).
_PROVIDED = frozenset({"42704", "42883"})
# A name the extension's object answers to: bare (on the search_path), or in the schema the
# dashboard installs into; `public` for an extension enabled there.
_WHERE_IT_GOES = frozenset({None, "public", DASHBOARD_SCHEMA})
