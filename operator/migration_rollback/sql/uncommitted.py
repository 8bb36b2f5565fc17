"""Transaction control in a forward that leaves part of it uncommitted under psql and the CLI.

`apply` runs a forward in its own transaction and the `--verify` replay runs its statements
without their transaction control: both stand for what psql and the Supabase CLI commit. That
holds for a file wrapped in BEGIN ... COMMIT, or split into several such blocks, and for no
other: a BEGIN never closed (the file ends with it open: rolled back), a ROLLBACK or ABORT
(what ran since its BEGIN is discarded; the Supabase CLI, which sends the file as one implicit
transaction, discards all of the file before it), a ROLLBACK TO SAVEPOINT, a COMMIT AND CHAIN
no later COMMIT ends (the new transaction is rolled back at the end), a PREPARE TRANSACTION
(left prepared, not committed; Supabase's servers have none enabled). Replayed as committed,
such a forward was verified and the later migrations over objects the database never got.

`uncommitted` finds the first such statement; validate reports it as an error, apply refuses
the file, the replay applies none of it. The parse tree is all that is read: a DO block's BEGIN
is PL/pgSQL, not transaction control, and a commented-out or quoted `BEGIN;` is no statement.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from pglast.enums.parsenodes import TransactionStmtKind as TK

from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import Statement


class Uncommitted(enum.StrEnum):
    """Why part of a forward is not committed; the value is validate's finding code."""

    UNCLOSED_BEGIN = "UNCLOSED_BEGIN"
    ROLLED_BACK = "ROLLED_BACK"
    PREPARED = "PREPARED_TRANSACTION"


UNCLOSED_BEGIN = (
    "BEGIN without a COMMIT: psql and the Supabase CLI end the file with its transaction open "
    "and roll back every statement after it; end the file with COMMIT, or remove the BEGIN"
)

MESSAGES: Mapping[Uncommitted, str] = MappingProxyType({
    Uncommitted.UNCLOSED_BEGIN: UNCLOSED_BEGIN,
    Uncommitted.ROLLED_BACK: (
        "ROLLBACK discards what ran before it (psql: since its BEGIN or SAVEPOINT; the Supabase "
        "CLI, which runs the file as one transaction: all of the file before it), so the "
        "database never gets it; remove the statements meant to be discarded and the ROLLBACK"
    ),
    Uncommitted.PREPARED: (
        "a prepared transaction is not committed by the file (and Supabase's servers allow "
        "none: max_prepared_transactions = 0); end the file with COMMIT instead"
    ),
})  # fmt: skip

_OPENERS = frozenset({TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START})
_DISCARDS: Mapping[TK, Uncommitted] = MappingProxyType({
    TK.TRANS_STMT_ROLLBACK: Uncommitted.ROLLED_BACK,  # ABORT too
    TK.TRANS_STMT_ROLLBACK_TO: Uncommitted.ROLLED_BACK,
    TK.TRANS_STMT_PREPARE: Uncommitted.PREPARED,
    TK.TRANS_STMT_COMMIT_PREPARED: Uncommitted.PREPARED,
    TK.TRANS_STMT_ROLLBACK_PREPARED: Uncommitted.PREPARED,
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Found:
    """The statement that leaves work uncommitted, and why."""

    statement: Statement
    kind: Uncommitted

    @property
    def message(self) -> str:
        return MESSAGES[self.kind]


def uncommitted(statements: Sequence[Statement]) -> Found | None:
    """The first statement whose transaction control leaves part of the file uncommitted."""
    opened: Statement | None = None
    for st in statements:
        node = st.node
        if not isinstance(node, ast.TransactionStmt):
            continue
        kind = TK(node.kind)
        if kind in _DISCARDS:
            return Found(st, _DISCARDS[kind])
        if kind in _OPENERS:
            opened = opened or st
        elif kind == TK.TRANS_STMT_COMMIT:  # END too; AND CHAIN opens the next one at once
            opened = st if node.chain else None
    return None if opened is None else Found(opened, Uncommitted.UNCLOSED_BEGIN)
