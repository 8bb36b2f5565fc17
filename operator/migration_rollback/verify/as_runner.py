"""The rollback run on the shadow the way `execute` runs it, so a verdict covers what runs.

`execute` does not run a `DROP TABLE` as written: it moves the table into the archive schema
(runner/archive.py), and copies a dropped column out first. A rollback that works when run
verbatim can fail under that transformation (an enum the rollback drops after the table is still
used by the archived table's column); so the round trip plans each rollback statement with the
runner's own `plan_statement` and carries it out with the runner's own archive functions. What
the archive holds stays there, as `execute` leaves it, until the round trip's savepoint is
rolled back; the comparison leaves it out (no snapshot reads an object of the archive schema:
snapshot/query.py): it is the runner's bookkeeping, not part of the schema the rollback must
restore. (Dropped before comparing instead, it cost a DROP TABLE of each archived table and a
round trip asking whether the schema was there before, for a third of bench_verify.py's
migrations.) With the captures the forward kept (as_apply.py), the runner's restore steps run
where `execute` runs them.

The archive schema itself is made once per shadow (`make_archive_schema`), as it stays on a
database `execute` has run on: made and dropped by each round trip, it cost the server a re-plan
of every cached catalog query (creating or dropping a schema resets the whole plan cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg

from migration_rollback.runner.archive import archive_tables, ensure_archive_schema
from migration_rollback.runner.archive_columns import copy_columns
from migration_rollback.runner.errors import RunnerError
from migration_rollback.runner.plan import Action, plan_statement
from migration_rollback.runner.restore import DataRestore
from migration_rollback.sql import Statement

_ACTING = (Action.ARCHIVE_TABLES, Action.COPY_COLUMNS)


def make_archive_schema(conn: psycopg.Connection[Any]) -> None:
    """The archive schema in a fresh shadow, committed before its first snapshot."""
    with conn.transaction():
        ensure_archive_schema(conn)


@contextmanager
def _refusal_as_failure() -> Iterator[None]:
    """A restore `execute` would refuse (a routine something depends on that only DROP could
    put back, see restore_definitions.py) is the rollback's failure here, reported as a
    statement's error is, not a crash of the verification."""
    try:
        yield
    except RunnerError as exc:
        raise psycopg.Error(exc.message) from exc


class StatementHook(Protocol):
    """Runs some statements of a script the way a command of the runner runs them."""

    # True: `run` ends by executing the statement's own text (apply's captures), so a
    # statement the shadow must rewrite for a stand-in is left to the shadow (session.py).
    runs_text: bool

    def acts_on(self, statement: Statement) -> bool: ...

    def run(self, conn: psycopg.Connection[Any], statement: Statement) -> bool: ...


class AsRunner:
    """Carries out one rollback's archiving statements as the runner would (no --purge)."""

    runs_text = False  # archives tables and keeps steps: plain statements only

    def __init__(
        self, forward_source: str, restore: tuple[DataRestore, dict[int, int]] | None = None
    ) -> None:
        self.version = Path(forward_source).stem.split("_", 1)[0]
        self.when = datetime.now(UTC).replace(microsecond=0)
        self.archived: list[str] = []  # schema.name of what was archived
        self.restore: DataRestore | None = restore[0] if restore is not None else None
        self._numbers: dict[int, int] = restore[1] if restore is not None else {}

    def acts_on(self, statement: Statement) -> bool:
        """`run` would do something for this statement (archive a table, copy a column, put
        captured data back before it)."""
        if self.restore is not None and self._numbers.get(id(statement)) in self.restore.before:
            return True
        if self._kept(statement):
            return True
        return plan_statement(0, self.version, statement, purge=False).action in _ACTING

    def start(self, conn: psycopg.Connection[Any]) -> None:
        if self.restore is not None:
            self.restore.begin(conn)

    def finish(self, conn: psycopg.Connection[Any]) -> None:
        """The restores placed after the last statement (raises psycopg.Error as they would)."""
        if self.restore is not None:
            with _refusal_as_failure():
                self.restore.finish(conn)

    def run(self, conn: psycopg.Connection[Any], statement: Statement) -> bool:
        """Archive instead of running, as the runner does: True when the statement was carried
        out here; False when the caller runs it (after any column copy or restore made here)."""
        if self.restore is not None:
            with _refusal_as_failure():
                self.restore.before_statement(conn, self._numbers.get(id(statement), 0))
        if self._kept(statement):  # as execute: its IF NOT EXISTS met an existing object
            return True
        planned = plan_statement(0, self.version, statement, purge=False)
        if planned.action not in _ACTING:
            return False
        if planned.action is Action.ARCHIVE_TABLES:
            outcome = archive_tables(conn, planned, self.when)
            self.archived += [a.archive for a in outcome.archived]
            return True
        outcome = copy_columns(conn, planned, self.when)
        self.archived += [a.archive for a in outcome.archived]
        return False

    def _kept(self, statement: Statement) -> bool:
        return self.restore is not None and self.restore.keeps(
            self.version, statement.location.line
        )

    def notes(self) -> list[str]:
        if not self.archived:
            return []
        return [
            "checked as `execute` runs it: dropped tables moved to the archive schema "
            f"({', '.join(self.archived)}), which the comparison leaves out"
        ]
