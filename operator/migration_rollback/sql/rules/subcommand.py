"""One subcommand of an ALTER TABLE as its inverse builder sees it: the relation, how the
statement names it, and the column state the migration has reached so far.

Builders for table-level and column-level subcommands live apart (alter_table, columns);
both take this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from migration_rollback.sql import kinds
from migration_rollback.sql.compose import Composable, Identifier, sql
from migration_rollback.sql.history import ColumnState
from migration_rollback.sql.model import ManualNeed, ObjectRef
from migration_rollback.sql.rules.context import ColumnMoment, Context, Inverse, manual


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One subcommand of an ALTER, with what its builder needs to know."""

    cmd: Any
    rel: ObjectRef  # the relation altered
    kind: kinds.ObjectKind  # what the statement says it is: TABLE, VIEW…
    prefix: Composable  # `ALTER TABLE [IF EXISTS] s.t`
    ctx: Context

    @property
    def schema(self) -> str:
        return str(self.rel.schema)

    @property
    def column(self) -> Identifier:
        return Identifier(str(self.cmd.name))

    @property
    def column_ref(self) -> ObjectRef:
        return ObjectRef("column", self.rel.name, self.schema, column=self.cmd.name)

    @property
    def state(self) -> ColumnState | None:
        """The column as earlier migrations left it."""
        return self.ctx.column_before(self.schema, self.rel.name, str(self.cmd.name))

    @property
    def table_is_new(self) -> bool:
        return self.ctx.is_new(self.rel) or self.ctx.is_new(self.column_ref)

    def moment(self) -> ColumnMoment:
        """The column as this migration has left it so far."""
        return self.ctx.moment(self.schema, self.rel.name, str(self.cmd.name))

    def statement(self, template: str, *args: Composable) -> str:
        """`<prefix> <template>`: a statement on the same relation."""
        return sql("{} " + template, self.prefix, *args)


SubRule = Callable[[Subcommand], Iterator[Inverse]]


def by_hand(sub: Subcommand) -> Iterator[Inverse]:
    what = sub.cmd.subtype.name.removeprefix("AT_")
    yield manual(
        ManualNeed.UNSUPPORTED, f"ALTER TABLE {sub.rel.qualified} {what}: undo by hand", sub.rel
    )
