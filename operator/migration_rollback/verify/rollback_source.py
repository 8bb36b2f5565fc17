"""Where a round trip's rollback comes from: a rollback ready to run (`Prepared`), and the source
that prepares one for each forward migration (a file, or the generator: see api.py).

A source answers with `Attempts`: the first rollback, and what to try when an attempt fails to
run or leaves differences. The round trip's retry and repair loop asks those two questions and
nothing else; a file's rollback has no second attempt (`Once`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import MANUAL_PREFIX, Script, classify
from migration_rollback.sql.parse import split_comment_lines
from migration_rollback.sql.session_state import refusals
from migration_rollback.verify.covered import Cover, covers_of
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.parsed_files import ParsedFiles
from migration_rollback.verify.snapshot import Snapshot

if TYPE_CHECKING:
    from migration_rollback.sql import RollbackPlan


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
    refused: bool = False  # the problem is execute's refusal to run it, not a parse error
    filled: list[Any] = field(default_factory=list)  # state-aware steps (stateful.Filled)
    still_manual: list[Any] = field(default_factory=list)  # (stateful.StillManual)
    # The MANUAL items whose targets the generator knows (verify/covered.py): what they leave
    # to a human is no mismatch.
    covers: tuple[Cover, ...] = ()


class Attempts(Protocol):
    """The rollbacks a source offers for one forward migration, one attempt after another."""

    def first(self) -> Prepared:
        """The rollback to try first."""
        ...

    def after_failure(self, failed: Prepared) -> Prepared | None:
        """Another rollback after `failed` could not run; None: nothing else to try."""
        ...

    def repairable(self, last: Prepared) -> bool:
        """Whether `after_differences` may repair `last` (asked before the shadow is touched)."""
        ...

    def after_differences(
        self, last: Prepared, differences: list[Difference], state: Callable[[], Snapshot]
    ) -> Prepared | None:
        """`last` repaired, given the differences it left and (read when needed) the state it
        left; None: no repair."""
        ...


@dataclass(frozen=True)
class Once:
    """A single rollback: no other attempt (a rollback file)."""

    prepared: Prepared

    def first(self) -> Prepared:
        return self.prepared

    def after_failure(self, failed: Prepared) -> Prepared | None:
        return None

    def repairable(self, last: Prepared) -> bool:
        return False

    def after_differences(
        self, last: Prepared, differences: list[Difference], state: Callable[[], Snapshot]
    ) -> Prepared | None:
        return None


# Given the forward script, a way to get S(i-1) (a copy of the model: O(schema), so made only
# for a rollback that asks) and one to get S(i) (the state after the forward), the rollbacks
# to try.
RollbackSource = Callable[[Script, Callable[[], Snapshot], Callable[[], Snapshot]], Attempts]


def file_rollback(
    path: Path | None,
    text: str | None = None,
    plan: RollbackPlan | None = None,
    files: ParsedFiles | None = None,
) -> RollbackSource:
    """The rollback written in a file (validate --verify): `text` when the caller read it;
    `plan`: the generator's static plan of the forward, whose MANUAL items' targets count when
    the file is exactly what the generator writes from it (verify/covered.py); `files`: the
    run's reads and parses (parsed_files.py)."""

    def provide(
        forward: Script, before: Callable[[], Snapshot], after: Callable[[], Snapshot]
    ) -> Attempts:
        prepared = _read_rollback(path, text, files or ParsedFiles())
        if path is not None and prepared.script is not None:
            prepared.covers = covers_of(plan, prepared.text, path.name)
        return Once(prepared)

    return provide


def _read_rollback(path: Path | None, given: str | None, files: ParsedFiles) -> Prepared:
    """The file's rollback parsed, with its MANUAL markers and what it destroys."""
    if path is None:
        return Prepared(None, problem="no rollback file")
    text = files.text(path, given)
    manual = [f"{path.name}:{line}: {item}" for line, item in split_comment_lines(
        text, MANUAL_PREFIX
    )]  # fmt: skip
    try:
        script = files.script(str(path), text)
    except SqlSyntaxError as exc:
        return Prepared(None, text, manual, problem=exc.message, location=str(exc.location))
    refused = refusals(script.statements)
    if refused:  # not run on the shadow: a verdict would speak of what execute never runs
        problem, where = "; ".join(map(str, refused)), str(refused[0].statement.location)
        return Prepared(None, text, manual, problem=problem, location=where, refused=True)
    data_loss = [
        f"{st.location}: {st.first_line}" for st in script.statements if classify(st).destroys_data
    ]
    return Prepared(script, text, manual, data_loss, list(script.warnings))
