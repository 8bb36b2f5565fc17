"""Forward migration in, rollback plan out: the pure heart of `generate` and `validate`.

Statements are inverted in reverse order. Every emitted statement passes the safety belt:
it is re-parsed with pglast (all of a migration's in one parse) and must come back as exactly
one statement, or generation fails loudly instead of writing SQL that would break at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.errors import SourceLocation, SqlSyntaxError, UnsafeOutputError
from migration_rollback.sql._ast import ast
from migration_rollback.sql.classify import classify
from migration_rollback.sql.history import History
from migration_rollback.sql.inverse import Context, Inverse, invert
from migration_rollback.sql.model import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    LockLevel,
    ManualItem,
    RollbackStep,
    Script,
    Statement,
)
from migration_rollback.sql.names import DEFAULT_SCHEMA
from migration_rollback.sql.parse import parse_script, parse_single_statements


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


def checked_statements(sqls: Sequence[str]) -> list[Statement]:
    """The safety belt over all the SQL of one rollback: one parse builds every tree.

    Each text is first checked to be exactly one statement by the C parser alone; when one is
    not (or needs clean-up), each is checked on its own, which says which and why.
    """
    if not sqls:
        return []  # every statement's tree is known: nothing new to parse
    batch = parse_single_statements(sqls, "<generated>")
    return batch if batch is not None else [checked_statement(sql) for sql in sqls]


def _step(forward: Statement, inverse: Inverse, emitted: Statement | None) -> RollbackStep:
    if inverse.sql is None or emitted is None:
        return RollbackStep(forward=forward, sql=None, manual=inverse.manual, notes=inverse.notes)
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
        recreates=inverse.recreates,
    )


def _emitted(inverses: Sequence[Inverse]) -> Iterator[Statement | None]:
    """Each inverse's SQL as a checked statement (None for no SQL): the safety belt parses
    only what is new; an earlier statement's own text keeps the tree it was parsed into."""
    new = [i.sql for i in inverses if i.sql is not None and i.tree is None]
    checked = iter(checked_statements(new))
    for inverse in inverses:
        if inverse.sql is None:
            yield None
        elif inverse.tree is None:
            yield next(checked)
        else:
            yield Statement(inverse.sql, _GENERATED, 0, inverse.tree)


_GENERATED = SourceLocation("<generated>", 1, 1)  # where a lone statement's parse places it


def generate_rollback(
    forward: Script, migration: str, history: History | None = None
) -> RollbackPlan:
    """Invert a parsed forward migration. `history` holds what earlier migrations built."""
    ctx = Context(history=history)
    inverses = [(st, invert(st, ctx)) for st in forward.statements]
    emitted = _emitted([inv for _, group in inverses for inv in group])
    per_statement = [[_step(st, inv, next(emitted)) for inv in group] for st, group in inverses]
    steps = _views_after_table_changes(
        [step for group in reversed(per_statement) for step in group]
    )
    return RollbackPlan(
        migration=migration, source=forward.source, steps=tuple(steps), warnings=forward.warnings
    )


def _views_after_table_changes(steps: list[RollbackStep]) -> list[RollbackStep]:
    """Order by real dependencies: a view recreated as it was, over `t.*`, expands `*` when it
    is created; recreated before a later step drops the column the migration added, it would
    take that column in (and the DROP COLUMN then fails: "other objects depend on it"). Such a
    view, and the steps that build on it, move after the table's change."""
    out = list(steps)
    i = 0
    while i < len(out):
        node = _node(out[i])
        if not (isinstance(node, ast.ViewStmt) and _has_star(node.query)):
            i += 1
            continue
        reads = _relations_read(node.query)
        last = max((j for j in range(i + 1, len(out)) if _drops_columns(out[j], reads)), default=-1)
        if last < 0:
            i += 1
            continue
        created = {_key(node.view)}
        group = [i]
        for k in range(i + 1, last):
            if _builds_on(out[k], created):
                group.append(k)
                later = _node(out[k])
                if isinstance(later, ast.ViewStmt):
                    created.add(_key(later.view))
        moved = [out[k] for k in group]
        rest = [step for k, step in enumerate(out) if k not in group]
        at = last - len(group) + 1
        out = rest[:at] + moved + rest[at:]
    return out


def _node(step: RollbackStep) -> Any:
    parsed = step.parsed
    return parsed.node if parsed is not None else None


def _key(rv: Any) -> tuple[str, str]:
    return (str(rv.schemaname or DEFAULT_SCHEMA), str(rv.relname))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, ast.Node):
        for attr in node:  # pglast nodes iterate over their field names
            yield from _walk(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


def _has_star(query: Any) -> bool:
    return any(isinstance(n, ast.A_Star) for n in _walk(query))


def _relations_read(query: Any) -> set[tuple[str, str]]:
    return {_key(n) for n in _walk(query) if isinstance(n, ast.RangeVar)}


def _drops_columns(step: RollbackStep, tables: set[tuple[str, str]]) -> bool:
    node = _node(step)
    return (
        isinstance(node, ast.AlterTableStmt)
        and _key(node.relation) in tables
        and any(cmd.subtype == AT.AT_DropColumn for cmd in node.cmds or ())
    )


def _builds_on(step: RollbackStep, views: set[tuple[str, str]]) -> bool:
    """A step that reads one of these views or acts on one of them (comment, grant, a trigger
    on it...)."""
    if step.parsed is None:
        return False
    node = step.parsed.node
    if isinstance(node, ast.ViewStmt) and _relations_read(node.query) & views:
        return True
    targets = classify(step.parsed).targets  # a trigger, rule or policy on one too
    return any((t.schema or DEFAULT_SCHEMA, t.table or t.name) in views for t in targets)


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
