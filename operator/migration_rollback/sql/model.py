"""The vocabulary of the SQL engine: statements, objects, classifications, rollback steps.

Everything here is immutable and free of I/O so that the generator, the validator, the runner
and the verifier can share one description of what a statement does.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.errors import SourceLocation
from migration_rollback.records import quick_init
from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.sql.compose import qualified
from migration_rollback.sql.compose import quote_ident as quote_ident  # the package exports it
from migration_rollback.sql.copy_data import CopyBlock

# The marks a generated rollback carries: written by the generator, read by the runner (which
# imports no generator).
MANUAL_PREFIX = "-- MANUAL:"
NON_TRANSACTIONAL_MARK = "-- migration-rollback: non-transactional"


class LockLevel(enum.IntEnum):
    """PostgreSQL table lock modes, ordered by strength (what a statement blocks)."""

    NONE = 0
    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        return "no table lock" if self is LockLevel.NONE else self.name.replace("_", " ")

    @property
    def blocks_reads(self) -> bool:
        return self is LockLevel.ACCESS_EXCLUSIVE

    @property
    def blocks_writes(self) -> bool:
        return self >= LockLevel.SHARE


@quick_init
@dataclass(frozen=True, slots=True)
class Statement:
    """One top-level SQL statement with where it came from."""

    text: str
    location: SourceLocation
    index: int
    node: Any = field(compare=False, repr=False)

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    @property
    def first_line(self) -> str:
        """The statement's start as messages and comments quote it: credentials masked
        (redact_sql) before the cut, so a cut credential is no piece left unmasked."""
        text = self.text.strip()
        end = _LINE_END.search(text)  # not splitlines(): a function's body is many lines
        line = text if end is None else text[: end.start()]
        return clip(sql_excerpt(line) if may_quote(line) else line, 100)


def may_quote(line: str) -> bool:
    """In SQL a credential stands in a literal, a quoted name, a comment or a URL: a line
    without any of those (most first lines of DDL) holds none (redact_sql's rules agree)."""
    return any(mark in line for mark in _QUOTING)


_QUOTING = ("'", '"', "$", "--", "/*", "://")
# What str.splitlines() ends a line at.
_LINE_END = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Script:
    """A parsed SQL file: its statements in order, plus what was skipped and why."""

    source: str
    statements: tuple[Statement, ...]
    warnings: tuple[str, ...] = ()
    # Rows after a `COPY ... FROM stdin`: cut out of the text the statements were parsed from.
    copy_blocks: tuple[CopyBlock, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A database object a statement creates, changes or drops."""

    kind: str
    name: str
    schema: str | None = None
    column: str | None = None
    args: str | None = None
    table: str | None = None  # for objects that live on a table: trigger, policy, constraint

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name).as_string()

    @property
    def key(self) -> str:
        """A stable identity, used to match objects across statements and migrations."""
        parts = [self.kind, self.schema or "", self.name]
        if self.table:
            parts.append(self.table)
        if self.args is not None:
            parts.append(f"({self.args})")
        if self.column:
            parts.append(self.column)
        return ":".join(parts)

    def describe(self) -> str:
        where = f" on {self.table}" if self.table else ""
        args = f"({self.args})" if self.args is not None else ""
        col = f".{quote_ident(self.column)}" if self.column else ""
        return f"{self.kind} {self.qualified}{args}{col}{where}"


@quick_init
@dataclass(frozen=True, slots=True)
class Classification:
    """What a statement does to a running database."""

    transactional: bool = True
    destroys_data: bool = False
    lock: LockLevel = LockLevel.NONE
    needs_manual: bool = False
    notes: tuple[str, ...] = ()
    targets: tuple[ObjectRef, ...] = ()


class ManualNeed(enum.StrEnum):
    """Why a statement's inverse cannot be written from the forward SQL alone."""

    PRIOR_COLUMN_TYPE = "PRIOR_COLUMN_TYPE"
    PRIOR_COLUMN_DEFAULT = "PRIOR_COLUMN_DEFAULT"
    PRIOR_NOT_NULL = "PRIOR_NOT_NULL"
    PRIOR_DEFINITION = "PRIOR_DEFINITION"
    PRIOR_OWNER = "PRIOR_OWNER"
    PRIOR_PRIVILEGES = "PRIOR_PRIVILEGES"
    RECREATE_DROPPED = "RECREATE_DROPPED"
    ENUM_VALUE = "ENUM_VALUE"
    PRIOR_REPLICA_IDENTITY = "PRIOR_REPLICA_IDENTITY"
    PRIOR_ROW_SECURITY = "PRIOR_ROW_SECURITY"
    DATA_CHANGE = "DATA_CHANGE"
    DYNAMIC = "DYNAMIC"
    UNSUPPORTED = "UNSUPPORTED"


class Leaves(enum.Enum):
    """What of its target a MANUAL item leaves to a human; the rest is the rollback's own."""

    WHOLE = "whole"  # anything: its definition, whether it exists
    # Only whether it stays: an IF NOT EXISTS object that may have been there (made nothing)
    EXISTENCE = "existence"
    VALUES = "values"  # its values (and a NOT NULL after them): the rollback's SQL made it again
    # What CREATE OR REPLACE writes over it (its query or body, options; its existence when it
    # may be new), not what it keeps: owner, privileges, comment.
    DEFINITION = "definition"
    SETTINGS = "settings"  # the `SET x` of a routine, which ALTER FUNCTION … SET / RESET changes
    OPTIONS = "options"  # a routine's options ALTER FUNCTION changes (its settings among them)


@quick_init
@dataclass(frozen=True, slots=True)
class ManualItem:
    """A piece of the rollback a human (or the state-aware verifier) must supply."""

    need: ManualNeed
    reason: str
    target: ObjectRef | None = None
    # The target's name before this migration renamed it (`ALTER TYPE t RENAME TO t_old`;
    # `DROP TYPE t_old`): what the state before the migration knows it by.
    was: ObjectRef | None = None
    # What of the target the item is about (the verifier holds the rest to the rollback's SQL).
    leaves: Leaves = Leaves.WHOLE


@quick_init
@dataclass(frozen=True, slots=True)
class RollbackStep:
    """The inverse of one forward statement: SQL, a manual item, or both."""

    forward: Statement
    sql: str | None
    manual: ManualItem | None = None
    transactional: bool = True
    destroys_data: bool = False
    lock: LockLevel = LockLevel.NONE
    notes: tuple[str, ...] = ()
    parsed: Statement | None = field(default=None, compare=False, repr=False)
    # The object this step's SQL creates again as an earlier migration defined it; a verifier
    # that knows the object's actual state may write it from that instead.
    recreates: ObjectRef | None = None
