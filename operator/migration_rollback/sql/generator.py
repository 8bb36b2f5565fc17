"""Forward migration in, rollback plan out: the pure heart of `generate` and `validate`.

Statements are inverted in reverse order. Every emitted statement passes the safety belt:
it is re-parsed with pglast and must come back as exactly one statement, or generation fails
loudly instead of writing SQL that would break at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from migration_rollback.errors import SqlSyntaxError, UnsafeOutputError
from migration_rollback.sql.classify import classify
from migration_rollback.sql.history import History
from migration_rollback.sql.inverse import Context, Inverse, invert
from migration_rollback.sql.model import LockLevel, ManualItem, RollbackStep, Script, Statement
from migration_rollback.sql.parse import parse_script

MANUAL_PREFIX = "-- MANUAL:"
NON_TRANSACTIONAL_MARK = "-- migration-rollback: non-transactional"


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """The rollback of one migration: steps in the order they must run."""

    migration: str
    source: str
    steps: tuple[RollbackStep, ...]
    warnings: tuple[str, ...] = ()

    @property
    def sql_steps(self) -> tuple[RollbackStep, ...]:
        return tuple(s for s in self.steps if s.sql)

    @property
    def manual_items(self) -> tuple[tuple[RollbackStep, ManualItem], ...]:
        return tuple((s, s.manual) for s in self.steps if s.manual is not None)

    @property
    def destroys_data(self) -> bool:
        return any(s.destroys_data for s in self.steps)

    @property
    def max_lock(self) -> LockLevel:
        return max((s.lock for s in self.steps), default=LockLevel.NONE)

    @property
    def non_transactional(self) -> tuple[RollbackStep, ...]:
        return tuple(s for s in self.steps if s.sql and not s.transactional)

    def render_body(self) -> str:
        """The rollback SQL, without the file header the project layer adds."""
        return render_steps(self.steps)


def checked_statement(sql: str) -> Statement:
    """The safety belt: emitted SQL must parse back to exactly one statement."""
    try:
        parsed = parse_script(sql, "<generated>")
    except SqlSyntaxError as exc:
        raise UnsafeOutputError(f"generated SQL does not parse ({exc.message}): {sql}") from exc
    if len(parsed.statements) != 1:
        raise UnsafeOutputError(
            f"generated SQL is {len(parsed.statements)} statements, expected 1: {sql}"
        )
    return parsed.statements[0]


def _step(forward: Statement, inverse: Inverse) -> RollbackStep:
    if inverse.sql is None:
        return RollbackStep(forward=forward, sql=None, manual=inverse.manual, notes=inverse.notes)
    emitted = checked_statement(inverse.sql)
    c = classify(emitted)
    return RollbackStep(
        forward=forward,
        sql=emitted.text,
        manual=inverse.manual,
        transactional=c.transactional,
        destroys_data=c.destroys_data,
        lock=c.lock,
        notes=inverse.notes + tuple(n for n in c.notes if n not in inverse.notes),
        parsed=emitted,
    )


def generate_rollback(
    forward: Script, migration: str, history: History | None = None
) -> RollbackPlan:
    """Invert a parsed forward migration. `history` holds what earlier migrations built."""
    ctx = Context(history=history)
    per_statement: list[list[RollbackStep]] = []
    for statement in forward.statements:
        per_statement.append([_step(statement, inv) for inv in invert(statement, ctx)])
    steps = [step for group in reversed(per_statement) for step in group]
    return RollbackPlan(
        migration=migration, source=forward.source, steps=tuple(steps), warnings=forward.warnings
    )


def build_history(scripts: Iterable[Script]) -> History:
    """Learn from earlier migrations, oldest first."""
    history = History()
    for script in scripts:
        history.begin_file()
        for statement in script.statements:
            history.observe(statement)
    return history


def _comment_lines(prefix: str, text: str) -> list[str]:
    return [f"{prefix} {line}".rstrip() for line in text.splitlines() or [""]]


def render_steps(steps: Iterable[RollbackStep]) -> str:
    """SQL text with a comment per step saying which forward statement it undoes."""
    out: list[str] = []
    for step in steps:
        if step.sql is None and step.manual is None:
            continue
        loc = step.forward.location
        out.append(f"-- undoes {loc.file}:{loc.line}: {step.forward.first_line}")
        for note in step.notes:
            out.append(f"-- note: {note}")
        if step.manual is not None:
            out.extend(_comment_lines(MANUAL_PREFIX, step.manual.reason))
        if step.sql is not None:
            if not step.transactional:
                out.append(NON_TRANSACTIONAL_MARK)
            out.append(step.sql.rstrip().rstrip(";") + ";")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
