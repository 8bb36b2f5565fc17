"""The CASCADE rule, one for `validate` (an ERROR) and `execute` (a refusal before anything runs).

Its own module: the rollback Job's `execute` loads it without the generator's rule tables that
sql/checks.py (validate's other checks) brings (tests/integration/runner/test_job_imports.py).
"""

from __future__ import annotations

from typing import Any

from pglast.enums.parsenodes import DropBehavior

from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import Script, Statement

ALLOW_CASCADE_MARK = "-- migration-rollback: allow-cascade"


def unmarked_cascades(rollback: Script, text: str) -> list[Statement]:
    """The statements with CASCADE that the file does not allow (ALLOW_CASCADE_MARK): an ERROR
    for validate, a refusal for execute (runner/rollback_file.check_cascade), one rule."""
    if ALLOW_CASCADE_MARK in text:
        return []
    return [st for st in rollback.statements if _cascades(st.node)]


def _cascades(node: Any) -> bool:
    """CASCADE on the statement (DROP, TRUNCATE, ALTER DOMAIN) or on one of an ALTER TABLE's
    (or ALTER TYPE's) subcommands: `DROP COLUMN c CASCADE` takes views and policies too."""
    if getattr(node, "behavior", None) == DropBehavior.DROP_CASCADE:
        return True
    commands = node.cmds if isinstance(node, ast.AlterTableStmt) else ()
    return any(getattr(c, "behavior", None) == DropBehavior.DROP_CASCADE for c in commands or ())
