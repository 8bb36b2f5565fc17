"""apply's own session, whatever a forward migration sets in it.

apply runs every migration on one session under its own `--lock-timeout` (a migration must not
queue behind a long lock, holding every query behind it) and `--statement-timeout`. A forward
statement's `SET statement_timeout = 0` (every `supabase db dump` file starts with it), `RESET
ALL` or `set_config('lock_timeout', '0', false)` would switch them off for the rest of the run,
later files included; a `SET ROLE` would run later files and the history row as another role;
`session_replication_role = replica` silences triggers and foreign-key checks. What a forward
may do is said once, in sql/session_state.py (FORWARD_RULES); this module does it on the
session: refuses before anything runs, puts apply's timeouts back right after a statement that
changed them (a stricter one holds to the end of its file), and at each file's start and end
puts back every setting and the identity it scopes to the file. Those file-boundary checks read
the server, so a change the parse tree cannot see (a DO block, a function) is undone too, and a
`session_replication_role` that is not apply's fails the file before its COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from migration_rollback.runner.errors import PostCheckError, PreconditionError
from migration_rollback.runner.options import shown_duration
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Script, Statement
from migration_rollback.sql.session_state import (
    Forward,
    ForwardFinding,
    SessionState,
    forward_findings,
    forward_settings,
)

TIMEOUTS = tuple(forward_settings(Forward.KEPT))
_IDENTITY = ("role", "session_authorization")  # put back by RESET, not by value
SCOPED = tuple(n for n in forward_settings(Forward.SCOPED) if n not in _IDENTITY)
REPLICATION = "session_replication_role"
WATCHED = (*TIMEOUTS, *SCOPED, REPLICATION)

# Every name qualified: these run while the migration's search_path may be in force. A setting
# this server lacks (transaction_timeout before PostgreSQL 17) is simply not read.
_READ = "SELECT name, setting FROM pg_catalog.pg_settings WHERE name = ANY(%s)"
_WHO = "SELECT session_user::text, current_user::text"
_PUT = (
    "SELECT pg_catalog.set_config(n, v, false) "
    "FROM ROWS FROM (pg_catalog.unnest(%s::text[]), pg_catalog.unnest(%s::text[])) AS t(n, v)"
)


def refuse_forward(script: Script) -> None:
    """Before anything runs: a statement that would silence apply's data protection."""
    refused = [f for f in forward_findings(script.statements) if f.action is Forward.REFUSED]
    if refused:
        raise PreconditionError(
            "; ".join(f"{f.statement.location}: {f.message}" for f in refused)
            + " (refused before anything ran)"
        )


def session_warnings(
    script: Script, lock_timeout: timedelta, statement_timeout: timedelta, keep: bool
) -> list[str]:
    """One warning per file and kind of change, at its first statement, saying what apply
    does about it (the same words `validate` shows)."""
    firsts: dict[SessionState, tuple[ForwardFinding, int]] = {}
    for found in forward_findings(script.statements):
        first, count = firsts.get(found.state, (found, 0))
        firsts[found.state] = (first, count + 1)
    given = "; --keep-migration-timeouts given" if keep else ""
    own = (
        f" (apply's: --lock-timeout {shown_duration(lock_timeout)}, "
        f"--statement-timeout {shown_duration(statement_timeout)}{given})"
    )
    return [
        f"{f.statement.location.file}:{f.line}: {f.message}"
        + (f" [and {count - 1} more like it]" if count > 1 else "")
        + (own if f.action is Forward.KEPT else "")
        for f, count in firsts.values()
        if f.action is not Forward.REFUSED
    ]


def put_back(
    current: Mapping[str, str], baseline: Mapping[str, str], names: Iterable[str], *, stricter: bool
) -> dict[str, str]:
    """The settings to set to apply's value: those changed, unless `stricter` lets a timeout
    that still fires sooner than apply's hold."""
    return {
        name: baseline[name]
        for name in names
        if name in baseline
        and current.get(name) != baseline[name]
        and not (stricter and name in TIMEOUTS and is_stricter(current.get(name), baseline[name]))
    }


def is_stricter(value: str | None, baseline: str) -> bool:
    """A timeout (pg_settings' milliseconds) that fires, and no later than apply's."""
    if value is None or not value.isdigit() or int(value) == 0:
        return False
    return int(baseline) == 0 or int(value) <= int(baseline)


@dataclass
class SessionKeeper:
    """apply's settings and identity as set when it connected, and their keeping."""

    conn: Connection
    baseline: dict[str, str]
    login: tuple[str, str]  # session_user, current_user
    keep_migration_timeouts: bool = False

    @classmethod
    def taken(cls, conn: Connection, *, keep_migration_timeouts: bool) -> SessionKeeper:
        """Right after apply set its timeouts on the session."""
        return cls(conn, _read(conn), _who(conn), keep_migration_timeouts)

    def after(self, stmt: Statement) -> None:
        """Right after a forward statement: apply's timeouts back if it changed them."""
        if self.keep_migration_timeouts:
            return
        if any(f.action is Forward.KEPT for f in forward_findings([stmt])):
            self._put(put_back(_read(self.conn), self.baseline, TIMEOUTS, stricter=True))

    def settle(self, file: str) -> None:
        """At a file's start and end (before apply's bookkeeping and COMMIT): every setting
        the file may change put back, the identity reset; replica mode fails the file."""
        current = _read(self.conn)
        role = current.get(REPLICATION)
        if role != self.baseline.get(REPLICATION):
            raise PostCheckError(
                f"{file}: session_replication_role is {role!r} after its statements (set where "
                "apply cannot see it: a DO block, a function): triggers and foreign-key checks "
                "did not fire; not committing"
            )
        self._put(put_back(current, self.baseline, WATCHED, stricter=False))
        session_user, current_user = _who(self.conn)
        if session_user != self.login[0]:
            self.conn.execute("RESET SESSION AUTHORIZATION")
        if current_user != self.login[1] or session_user != self.login[0]:
            self.conn.execute("RESET ROLE")

    def _put(self, values: dict[str, str]) -> None:
        if values:
            self.conn.execute(_PUT, [list(values), list(values.values())])


def _read(conn: Connection) -> dict[str, str]:
    return {str(n): str(v) for n, v in conn.execute(_READ, [list(WATCHED)])}


def _who(conn: Connection) -> tuple[str, str]:
    row = conn.execute(_WHO).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])
