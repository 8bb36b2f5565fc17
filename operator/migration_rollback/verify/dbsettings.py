"""Database-level settings (`ALTER DATABASE ... SET`, `ALTER ROLE ... IN DATABASE ... SET`)
copied onto a `CREATE DATABASE ... TEMPLATE` copy, which does not inherit them.

The baseline (and migrations) set `search_path` at the database level; a rollback checked on a
copy without it fails where it would work on the real database ("function uuid_generate_v4()
does not exist"). Each value is set in the session first and stored `FROM CURRENT`, so that
PostgreSQL itself parses it (a list such as `"$user", public, extensions` stays a list).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

_SETTINGS = """
SELECT r.rolname, pg_catalog.unnest(s.setconfig)
FROM pg_catalog.pg_db_role_setting s
LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = %s)
ORDER BY 1 NULLS FIRST
"""


def copy_database_settings(conn: psycopg.Connection[Any], source: str, copy: str) -> list[str]:
    """Give database `copy` the settings `source` has (conn: autocommit, to any database);
    returns the settings that could not be copied."""
    failed: list[str] = []
    for role, entry in conn.execute(_SETTINGS, [source]).fetchall():
        name, _, value = str(entry).partition("=")
        target = (
            sql.SQL("ROLE {} IN DATABASE {}").format(sql.Identifier(role), sql.Identifier(copy))
            if role is not None
            else sql.SQL("DATABASE {}").format(sql.Identifier(copy))
        )
        try:
            conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", [name, value])
            conn.execute(
                sql.SQL("ALTER {} SET {} FROM CURRENT").format(target, sql.Identifier(name))
            )
        except psycopg.Error as exc:
            failed.append(f"{name} ({exc.diag.message_primary or exc})")
        finally:
            conn.execute(sql.SQL("RESET {}").format(sql.Identifier(name)))
    return failed
