"""The Supabase platform a project's migrations run on, written once as SQL (`supabase.sql`,
documented in its own header): the shadow database loads it before replaying a project
(verify/baseline), and the engine reads from it what the platform grants itself
(sql/platform_grants.py). Package data only: nothing here reaches a database.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

SUPABASE_FILE = "supabase.sql"
# The file creates each of its schemas on a line of its own.
_SCHEMA = re.compile(r"^CREATE SCHEMA IF NOT EXISTS (\w+);", re.MULTILINE)


def supabase_sql() -> str:
    """The text of the Supabase platform's SQL."""
    return resources.files(__package__).joinpath(SUPABASE_FILE).read_text(encoding="utf-8")


@functools.cache
def schemas() -> frozenset[str]:
    """The schemas a Supabase database holds before any migration: PostgreSQL's `public` and
    the platform's own (a migration's `CREATE SCHEMA IF NOT EXISTS extensions` made nothing,
    and dropping it again would take what lives there)."""
    return frozenset({"public", *_SCHEMA.findall(supabase_sql())})
