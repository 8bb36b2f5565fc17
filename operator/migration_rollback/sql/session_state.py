"""Rollback statements that change the session they run in, and which of them execute refuses.

The runner owns the session a rollback runs in: it sets `lock_timeout` (a rollback must not
queue behind a long lock on production, holding up every query behind it) and
`statement_timeout`, runs as the role of the database URL (which the audit log records), under
its own `application_name`, in its own transaction. A statement of the rollback that changes
one of these (`SET lock_timeout = 0`, `RESET ALL`, `SET ROLE`, `SET session_replication_role =
replica`, which turns off triggers and foreign-key checks, `SELECT set_config(...)`) would undo
it silently for the rest of the run, the statements after COMMIT included. The generator never
writes one; a hand-written rollback that holds one is refused before anything runs.

One table, keyed by the kind of session state, says what is refused and why; `refusals` is
asked by `execute` (runner/plan.py), `validate` and `--verify` alike, so what one refuses
the others never call fine. There is no override in the file: the runner's settings have their
own options (`--lock-timeout`, `--statement-timeout`, the URL's role), and each message says
which. What the parse tree cannot show is out of reach: a `DO` block's or a called function's
code, a statement built at run time.

A forward migration run by `apply` is another matter: real ones hold these statements (every
`supabase db dump` file starts with `SET statement_timeout = 0`, projects `SET ROLE`), so
refusing them all would break real projects. `FORWARD_RULES`, keyed by the same states, says
what apply does instead: keep its own setting (put back right after the statement), scope the
change to its file (put back before apply's own bookkeeping and the next file), refuse it (it
would silence what keeps the data: triggers and foreign-key checks), or let it be.
`forward_findings` is asked by apply (runner/apply_session.py) and `validate` alike.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pglast.enums.parsenodes import DiscardMode, VariableSetKind
from pglast.enums.parsenodes import TransactionStmtKind as TK

from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import Statement
from migration_rollback.sql.names import set_config_calls


class SessionState(enum.StrEnum):
    """What part of the session a statement changes."""

    TIMEOUTS = "the runner's timeouts"
    IDENTITY = "the role the runner's statements run as"
    REPLICATION_ROLE = "whether triggers and foreign-key checks fire"
    EVERY_SETTING = "every setting, the runner's timeouts among them"
    TRANSACTION = "the runner's transaction"
    DURABILITY = "whether the COMMIT the run reports is durable"
    RUNNER_NAME = "the runner's application_name"
    PARSING = "how the server reads the statements sent after it"
    TEMPORARY_OBJECTS = "the session's temporary objects, the runner's own among them"
    LIBRARY = "the code loaded into the session"
    SEARCH_PATH = "the search_path"
    NOTIFICATIONS = "the session's LISTEN subscriptions"
    CACHES = "the session's cached plans or sequence values"
    OTHER_SETTING = "a setting the runner neither sets nor relies on"


@dataclass(frozen=True, slots=True)
class Rule:
    """Whether a rollback may change that state; `advice` says what to do instead (refused) or
    why it is harmless (allowed)."""

    refused: bool
    advice: str


_TIMEOUT_FLAGS = (
    "set them for the run with --lock-timeout / --statement-timeout "
    "(the operator: spec.job.lockTimeout / statementTimeout)"
)

RULES: Mapping[SessionState, Rule] = MappingProxyType({
    SessionState.TIMEOUTS: Rule(True, _TIMEOUT_FLAGS),
    SessionState.IDENTITY: Rule(True, "connect as the role the rollback must run as (the "
                            "database URL's user, which the audit log records)"),
    SessionState.REPLICATION_ROLE: Rule(True, "replica silences every trigger and foreign-key "
                                    "check for the rest of the run: disable the triggers meant "
                                    "by name (ALTER TABLE ... DISABLE TRIGGER ...)"),
    SessionState.EVERY_SETTING: Rule(True, "name each setting meant instead"),
    SessionState.TRANSACTION: Rule(True, "the runner owns the transaction and the statements "
                               "run after its COMMIT"),
    SessionState.DURABILITY: Rule(True, "the run would report a COMMIT a crash may still lose"),
    SessionState.RUNNER_NAME: Rule(True, "it is how pg_stat_activity tells the runner's session "
                               "to whoever is on call"),
    SessionState.PARSING: Rule(True, "what runs would no longer be what was parsed and checked"),
    SessionState.TEMPORARY_OBJECTS: Rule(True, "drop the temporary objects meant by name"),
    SessionState.LIBRARY: Rule(True, "load it through the server's configuration "
                           "(session_preload_libraries)"),
    SessionState.SEARCH_PATH: Rule(False, "the runner's own SQL runs with pg_catalog first and "
                                   "each rollback statement on the path the rollback set"),
    SessionState.NOTIFICATIONS: Rule(False, "the session's own, gone when the run ends"),
    SessionState.CACHES: Rule(False, "the session's own caches: nothing the runner relies on"),
    SessionState.OTHER_SETTING: Rule(False, "client_min_messages, check_function_bodies... "
                                     "change nothing the runner relies on"),
})  # fmt: skip


class Forward(enum.StrEnum):
    """What `apply` does with a forward migration's change of that state."""

    KEPT = "kept"  # apply's own value put back right after the statement
    SCOPED = "scoped"  # holds until the end of the file
    REFUSED = "refused"  # before anything runs
    ALLOWED = "allowed"


_KEEPS_TIMEOUTS = (
    "apply keeps its own, put back right after it (a stricter timeout holds to the end of the "
    "file; --keep-migration-timeouts keeps the file's own until then)"
)
_SCOPED = "holds to the end of the file: apply puts it back before its COMMIT and the next file"

FORWARD_RULES: Mapping[SessionState, tuple[Forward, str]] = MappingProxyType({
    SessionState.TIMEOUTS: (Forward.KEPT, _KEEPS_TIMEOUTS),
    SessionState.EVERY_SETTING: (Forward.KEPT, _KEEPS_TIMEOUTS + "; other settings: " + _SCOPED),
    SessionState.IDENTITY: (Forward.SCOPED, "the file's later statements run as that role, to "
                            "the end of the file: apply resets it before its COMMIT and the "
                            "next file (the history row is written as the connecting role)"),
    SessionState.REPLICATION_ROLE: (Forward.REFUSED, "replica silences every trigger (those "
                                    "apply's captures account for among them) and foreign-key "
                                    "check: remove it; disable the triggers meant by name "
                                    "(ALTER TABLE ... DISABLE TRIGGER ...) and enable them "
                                    "again in the same file"),
    SessionState.DURABILITY: (Forward.SCOPED, _SCOPED),
    SessionState.RUNNER_NAME: (Forward.SCOPED, _SCOPED),
    **dict.fromkeys((SessionState.TRANSACTION, SessionState.PARSING, SessionState.SEARCH_PATH,
                     SessionState.TEMPORARY_OBJECTS, SessionState.LIBRARY,
                     SessionState.NOTIFICATIONS, SessionState.CACHES,
                     SessionState.OTHER_SETTING), (Forward.ALLOWED, "")),
})  # fmt: skip

# Settings by name (PostgreSQL compares them ignoring case); any other is OTHER_SETTING.
SETTINGS: Mapping[str, SessionState] = MappingProxyType({
    **dict.fromkeys(("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout",
                     "idle_session_timeout", "transaction_timeout"), SessionState.TIMEOUTS),
    **dict.fromkeys(("role", "session_authorization"), SessionState.IDENTITY),
    "session_replication_role": SessionState.REPLICATION_ROLE,
    **dict.fromkeys(("transaction", "session characteristics", "transaction_isolation",
                     "transaction_read_only", "transaction_deferrable",
                     "default_transaction_isolation", "default_transaction_read_only",
                     "default_transaction_deferrable"), SessionState.TRANSACTION),
    "synchronous_commit": SessionState.DURABILITY,
    "application_name": SessionState.RUNNER_NAME,
    **dict.fromkeys(("client_encoding", "standard_conforming_strings", "backslash_quote"),
                    SessionState.PARSING),
    "search_path": SessionState.SEARCH_PATH,
})  # fmt: skip

DISCARDS: Mapping[DiscardMode, SessionState] = MappingProxyType({
    DiscardMode.DISCARD_ALL: SessionState.EVERY_SETTING,
    DiscardMode.DISCARD_TEMP: SessionState.TEMPORARY_OBJECTS,
    DiscardMode.DISCARD_PLANS: SessionState.CACHES,
    DiscardMode.DISCARD_SEQUENCES: SessionState.CACHES,
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Refusal:
    """A statement execute refuses to run, and why."""

    statement: Statement
    state: SessionState
    what: str  # the change, in words: "SET lock_timeout", "set_config('role', ...)"

    @property
    def line(self) -> int:
        return self.statement.location.line

    @property
    def message(self) -> str:
        """Why, without where (validate shows the file and line itself)."""
        return f"{self.what} changes {self.state}: {RULES[self.state].advice}"

    def __str__(self) -> str:
        return f"{self.statement.location}: {self.statement.first_line!r}: {self.message}"


def refusals(statements: Iterable[Statement]) -> list[Refusal]:
    """Every change of session state the rules refuse, in statement order: transaction
    control too, but for the file's own BEGIN ... COMMIT around it (`own_wrapper`)."""
    listed = list(statements)
    return [
        Refusal(st, state, what)
        for position, st in enumerate(listed)
        for state, what in (*changes(st), *_transaction_control(listed, position))
        if RULES[state].refused
    ]


_OPENERS = frozenset({TK.TRANS_STMT_BEGIN, TK.TRANS_STMT_START})
_CLOSERS = frozenset({TK.TRANS_STMT_COMMIT})  # END too


def own_wrapper(statements: Sequence[Statement], position: int) -> bool:
    """The file's own BEGIN (first, closed by a COMMIT) or COMMIT (last): the runner drops it
    and runs the rest in its transaction. Any other transaction control is refused
    (RULES[TRANSACTION]), an unclosed BEGIN too (`unclosed_begin`)."""
    node = statements[position].node
    if not isinstance(node, ast.TransactionStmt):
        return False
    first, last = position == 0, position == len(statements) - 1
    opens = first and node.kind in _OPENERS and unclosed_begin(statements) is None
    return opens or (last and node.kind in _CLOSERS)


def unclosed_begin(statements: Sequence[Statement]) -> Statement | None:
    """A BEGIN (or START TRANSACTION) no later COMMIT or ROLLBACK ends: psql and the Supabase
    CLI end the file with its transaction open, and everything after it is rolled back (what
    else leaves a forward uncommitted: sql/uncommitted.py)."""
    opened = None
    for st in statements:
        node = st.node
        if isinstance(node, ast.TransactionStmt) and node.kind in _OPENERS:
            opened = opened or st
        elif isinstance(node, ast.TransactionStmt) and node.kind in _ENDERS:
            opened = None
    return opened


_ENDERS = frozenset({TK.TRANS_STMT_COMMIT, TK.TRANS_STMT_ROLLBACK})


def _transaction_control(
    statements: Sequence[Statement], position: int
) -> list[tuple[SessionState, str]]:
    node = statements[position].node
    if not isinstance(node, ast.TransactionStmt) or own_wrapper(statements, position):
        return []
    return [(SessionState.TRANSACTION, statements[position].first_line.split()[0].upper())]


def changes(statement: Statement) -> list[tuple[SessionState, str]]:
    """What session state the statement changes, each with the words that name the change."""
    node = statement.node
    if isinstance(node, ast.VariableSetStmt):
        return [_set(node)]
    if isinstance(node, ast.DiscardStmt):
        mode = DiscardMode(node.target)
        return [(DISCARDS[mode], f"DISCARD {mode.name.removeprefix('DISCARD_')}")]
    if isinstance(node, ast.ListenStmt | ast.UnlistenStmt):
        return [(SessionState.NOTIFICATIONS, statement.kind.removesuffix("Stmt").upper())]
    if isinstance(node, ast.LoadStmt):
        return [(SessionState.LIBRARY, "LOAD")]
    # A cheap test first: most statements call no set_config, and walking every tree is not.
    return list(_set_config(node)) if "set_config" in statement.text.lower() else []


def _set(node: Any) -> tuple[SessionState, str]:
    if node.kind == VariableSetKind.VAR_RESET_ALL:
        return SessionState.EVERY_SETTING, "RESET ALL"
    name = str(node.name).lower()
    verb = "RESET" if node.kind == VariableSetKind.VAR_RESET else "SET"
    local = " LOCAL" if node.is_local else ""
    return SETTINGS.get(name, SessionState.OTHER_SETTING), f"{verb}{local} {name}"


def _set_config(node: Any) -> Iterator[tuple[SessionState, str]]:
    """set_config calls anywhere in the statement; one whose setting is not a constant could
    be any setting."""
    for call in set_config_calls(node):
        name = _constant(call.args[0]) if call.args else None
        if name is None:
            yield SessionState.EVERY_SETTING, "set_config() of a setting named at run time"
        else:
            state = SETTINGS.get(name.lower(), SessionState.OTHER_SETTING)
            yield state, f"set_config('{name.lower()}', ...)"


def _constant(node: Any) -> str | None:
    if isinstance(node, ast.TypeCast):
        node = node.arg
    value = getattr(node, "val", None) if isinstance(node, ast.A_Const) else None
    sval = getattr(value, "sval", None)
    return None if sval is None else str(sval)


@dataclass(frozen=True, slots=True)
class ForwardFinding:
    """A forward statement's change of session state that apply does not let pass as is."""

    statement: Statement
    state: SessionState
    what: str

    @property
    def line(self) -> int:
        return self.statement.location.line

    @property
    def action(self) -> Forward:
        return FORWARD_RULES[self.state][0]

    @property
    def message(self) -> str:
        """Why, without where: "`SET lock_timeout = 0` changes the runner's timeouts: ..." """
        action, advice = FORWARD_RULES[self.state]
        refused = "apply refuses it: " if action is Forward.REFUSED else ""
        return f"`{self.statement.first_line}` changes {self.state}: {refused}{advice}"


def forward_findings(statements: Iterable[Statement]) -> list[ForwardFinding]:
    """Every change of session state in a forward migration that apply keeps, scopes or
    refuses, in statement order."""
    return [
        ForwardFinding(st, state, what)
        for st in statements
        for state, what in changes(st)
        if FORWARD_RULES[state][0] is not Forward.ALLOWED
    ]


def forward_settings(action: Forward) -> list[str]:
    """The settings (by name) whose change apply treats this way."""
    return [name for name, state in SETTINGS.items() if FORWARD_RULES[state][0] is action]
