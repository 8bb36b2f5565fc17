"""The Supabase baseline a shadow database loads before replaying a project's migrations.

`platform/supabase.sql` (package data the engine reads too) is documented in its own header:
the roles, schemas, functions, tables, extensions and publication real Supabase migrations
refer to, created idempotently.
Its `CREATE EXTENSION` statements go through the stand-ins (verify/standins/) like a
migration's: the platform's pgsodium, pg_graphql, pgjwt and supabase_vault are stand-ins on a
plain PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pglast import ast

from migration_rollback.platform import SUPABASE_FILE, supabase_sql
from migration_rollback.sql import Statement, parse_script
from migration_rollback.verify.standins.install import Platform

BASELINE_FILE = SUPABASE_FILE
# The Supabase platform release the baseline follows (supabase/postgres, with the auth, storage
# and realtime schemas their services migrate to; see the header of supabase.sql).
PLATFORM_VERSION = "supabase/postgres 15.8.1 (auth v2.170, storage v1.19, realtime v2.34)"


def supabase_baseline_sql() -> str:
    """The text of the Supabase baseline."""
    return supabase_sql()


def load_baseline(conn: psycopg.Connection[Any], text: str | None = None) -> list[str]:
    """Run the baseline (or another text) on an autocommit connection, in one transaction.

    It sets the database's default search_path: sessions opened afterwards get it. Returns
    notes on what could not be provided (an extension with neither the server's nor a
    stand-in, e.g. on a shadow whose role is not a superuser).
    """
    script = parse_script(text if text is not None else supabase_baseline_sql(), BASELINE_FILE)
    platform = Platform(conn)
    notes: list[str] = []
    with conn.transaction():
        for statement in script.statements:
            if isinstance(statement.node, ast.CreateExtensionStmt):
                _create_extension(conn, platform, statement, notes)
            else:
                platform.run(statement)
    return notes


def _create_extension(
    conn: psycopg.Connection[Any], platform: Platform, statement: Statement, notes: list[str]
) -> None:
    """A platform extension, or a note saying why the shadow goes without it (a role that is
    not a superuser cannot create pg_stat_statements, nor any stand-in)."""
    name = str(statement.node.extname)
    if not platform.can_create(name):
        notes.append(f"extension {name} is not available: left out")
        return
    try:
        with conn.transaction():
            platform.run(statement)
    except psycopg.Error as exc:
        notes.append(f"extension {name} left out: {exc.diag.message_primary or exc}")
