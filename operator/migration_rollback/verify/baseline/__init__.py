"""The Supabase baseline a shadow database loads before replaying a project's migrations.

`supabase.sql` (package data) is documented in its own header: the roles, schemas, functions,
tables, extensions and publication real Supabase migrations refer to, created idempotently.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg

BASELINE_FILE = "supabase.sql"


def supabase_baseline_sql() -> str:
    """The text of the Supabase baseline."""
    return resources.files(__package__).joinpath(BASELINE_FILE).read_text(encoding="utf-8")


def load_baseline(conn: psycopg.Connection[Any], text: str | None = None) -> None:
    """Run the baseline (or another text) on an autocommit connection, as one script.

    It sets the database's default search_path: sessions opened afterwards get it.
    """
    conn.execute(text if text is not None else supabase_baseline_sql(), prepare=False)
