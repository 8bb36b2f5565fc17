"""The keys of the platform's own tables (storage.buckets, auth.users...), from its SQL.

A migration that inserts rows into a table the platform made (a storage bucket) is undone by
deleting those rows by their key; no migration declares that key, so the history alone does
not know it. The platform's CREATE TABLE statements (platform/supabase.sql) say it.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from pglast import parse_sql

from migration_rollback.errors import SourceLocation
from migration_rollback.platform import supabase_sql
from migration_rollback.sql.model import Statement

if TYPE_CHECKING:
    from migration_rollback.sql.history import History, TableKey

# Only the platform's tables are read, each a CREATE TABLE at the start of a line up to the
# `);` closing it.
_TABLES = re.compile(r"^CREATE TABLE\b.*?^\);", re.MULTILINE | re.DOTALL)


@functools.cache
def platform_tables() -> History:
    """A history of the platform's CREATE TABLEs alone: their columns and keys."""
    from migration_rollback.sql.history import History

    history = History()
    for index, raw in enumerate(parse_sql("\n".join(_TABLES.findall(supabase_sql())))):
        where = SourceLocation(file="platform/supabase.sql", line=1, column=1)
        history.observe(Statement("", where, index, raw.stmt))
    return history


def primary_key(table: TableKey) -> tuple[str, ...] | None:
    return platform_tables().primary_keys.get(table)


def unique_keys(table: TableKey) -> tuple[tuple[str, ...], ...]:
    return platform_tables().unique_keys.get(table, ())
