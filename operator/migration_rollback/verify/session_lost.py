"""When a migration takes the verifier's session state from under it, the verdict says so.

The verifier's catalog reads are prepared statements and its change capture lives in temporary
tables, both held by the shadow session. A migration's own DEALLOCATE or DISCARD at top level
is seen and its reads prepared again (session.py); one inside a DO block or a function, or a
DISCARD TEMP, is not, and the verifier's next read failed with a traceback out of the whole
run. Such a failure is the verifier's, raised by its own reads, not by a migration's statement
(those become the migration's failure where they run). So: a read whose prepared statement is
gone ("_mr_...", 26000) makes the trip run once more on a fresh session, carefully (each
statement alone, the reads prepared again after it); any other failure of the verifier's own
reads, or a second one, is this migration's failure, naming the statement that likely caused it
(a migration that drops the verifier's helper schema, whose functions the check calls, is told
so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import psycopg

from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.sql import Script, Statement
from migration_rollback.verify.catalog import DEALLOCATING
from migration_rollback.verify.replay_support import error_text, executable, statement_line
from migration_rollback.verify.snapshot import HELPER_SCHEMA
from migration_rollback.verify.verdict import Failure, Outcome

# Prepared statement "..." does not exist.
_NO_SUCH_STATEMENT = "26000"
_PREFIX = '"_mr_'  # every prepared statement of the verifier's (catalog.py, runner/prepared.py)
# Words of a statement that may take the session's state (also inside a DO block or a body).
_TAKING_WORDS = ("deallocate", "discard")


class Careful(Protocol):
    """The session a trip runs on (session.ShadowSession)."""

    careful: bool

    def start_over(self) -> None: ...


def lost_prepared(exc: psycopg.Error) -> bool:
    """The error says one of the verifier's own prepared statements is gone."""
    return exc.sqlstate == _NO_SUCH_STATEMENT and _PREFIX in (exc.diag.message_primary or "")


def guarded(s: Careful, trip: Callable[[], Outcome], forward: Script, text: str) -> Outcome:
    """`trip`'s outcome; if the verifier's own reads failed, see the module's docstring."""
    try:
        return trip()
    except psycopg.Error as exc:
        s.start_over()
        if not lost_prepared(exc):
            return own_failure(exc, forward, text)
    s.careful = True
    try:
        return trip()
    except psycopg.Error as exc:
        s.start_over()
        return own_failure(exc, forward, text)
    finally:
        s.careful = False


def own_failure(exc: psycopg.Error, forward: Script, text: str) -> Outcome:
    """The migration's outcome when the verifier's own read failed: its rollback unchecked."""
    if HELPER_SCHEMA in (exc.diag.message_primary or ""):
        culprit = _naming_helpers(forward)
        where = statement_line(text, culprit, None) if culprit is not None else None
        blamed = f"; the migration removed the verifier's helpers (schema {HELPER_SCHEMA}" + (
            f": `{_shown(culprit)}` at {where})" if culprit is not None else ")"
        )
    else:
        culprit = _culprit(forward)
        where = statement_line(text, culprit, None) if culprit is not None else None
        blamed = _taken(culprit, where)
    message = f"the verifier's own catalog read failed: {error_text(exc)}{blamed}"
    primary = exc.diag.message_primary or ""
    return Outcome(forward_failure=Failure(message, where, exc.sqlstate, primary, own=True))


def _taken(culprit: Statement | None, where: str | None) -> str:
    if culprit is None:
        return (
            "; a DEALLOCATE or DISCARD in the rollback (or in code it calls) may have taken "
            "the verifier's session state"
        )
    return (
        f"; `{_shown(culprit)}` at {where} may have taken the verifier's session state (its "
        "prepared statements or temporary tables)"
    )


def _naming_helpers(forward: Script) -> Statement | None:
    """The forward's first statement that names the verifier's helper schema, if any."""
    for st in executable(forward.statements):
        if HELPER_SCHEMA in st.text.lower():
            return st
    return None


def _culprit(forward: Script) -> Statement | None:
    """The forward's first statement that may take the session's state, if any."""
    for st in executable(forward.statements):
        if st.kind in DEALLOCATING or any(w in st.text.lower() for w in _TAKING_WORDS):
            return st
    return None


def _shown(st: Statement) -> str:
    """The statement as a message quotes it: on one line, its start."""
    return clip(sql_excerpt(" ".join(st.text.split())), 60)
