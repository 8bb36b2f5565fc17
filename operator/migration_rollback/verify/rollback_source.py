"""Where a round trip's rollback comes from: a rollback ready to run (`Prepared`), and the source
that prepares one for each forward migration (a file, or the generator: see api.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import MANUAL_PREFIX, Script, classify, parse_script
from migration_rollback.sql.parse import normalize_text, split_comment_lines
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import Snapshot


@dataclass
class Prepared:
    """A rollback ready to run: its statements and what is known about it beforehand."""

    script: Script | None  # None: no rollback at all
    text: str = ""  # the SQL the script was parsed from (for file:line in errors)
    manual: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sql_body: str | None = None
    problem: str | None = None  # why there is no script (e.g. it does not parse)
    location: str | None = None
    # Another attempt, given the differences the last one left and the state it left.
    retry: Callable[[list[Difference], Snapshot], Prepared | None] | None = None
    # Another attempt after this one failed to run.
    on_failure: Callable[[], Prepared | None] | None = None
    filled: list[Any] = field(default_factory=list)  # state-aware steps (stateful.Filled)
    still_manual: list[Any] = field(default_factory=list)  # (stateful.StillManual)


# Given the forward script, S(i-1) (the model) and a way to get S(i) (the state after the
# forward), produce the rollback.
RollbackSource = Callable[[Script, Snapshot, Callable[[], Snapshot]], Prepared]


def file_rollback(path: Path | None) -> RollbackSource:
    """The rollback written in a file (validate --verify)."""

    def provide(forward: Script, before: Snapshot, after: Callable[[], Snapshot]) -> Prepared:
        if path is None:
            return Prepared(None, problem="no rollback file")
        text = normalize_text(read_text(path))
        manual = [f"{path.name}:{line}: {item}" for line, item in split_comment_lines(
            text, MANUAL_PREFIX
        )]  # fmt: skip
        try:
            script = parse_script(text, str(path))
        except SqlSyntaxError as exc:
            return Prepared(None, text, manual, problem=exc.message, location=str(exc.location))
        data_loss = [
            f"{st.location}: {st.first_line}"
            for st in script.statements
            if classify(st).destroys_data
        ]
        return Prepared(script, text, manual, data_loss, list(script.warnings))

    return provide


def read_text(path: Path) -> str:
    from migration_rollback.project.migrations import read_source

    return read_source(path).text
