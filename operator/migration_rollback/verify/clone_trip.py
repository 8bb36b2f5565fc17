"""The round trip of a migration that cannot run in one transaction, on a copy of the shadow.

A migration or rollback with a statement that cannot run in a transaction block (CREATE INDEX
CONCURRENTLY...) is run the way it must be: statement groups in their own transactions and the
non-transactional statements alone. Nothing then can undo its rollback, so the rollback runs on
a copy of the shadow database (CREATE DATABASE ... TEMPLATE): a failed or wrong rollback leaves
nothing behind, and full snapshots are compared.
"""

from __future__ import annotations

from typing import Any

import psycopg

from migration_rollback.sql import Script, Statement, classify
from migration_rollback.verify.as_runner import AsRunner
from migration_rollback.verify.dbsettings import copy_database_settings
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.replay_support import executable
from migration_rollback.verify.rollback_source import Prepared, RollbackSource
from migration_rollback.verify.session import RESET_SESSION, ShadowSession
from migration_rollback.verify.snapshot import Snapshot, take_snapshot
from migration_rollback.verify.verdict import Failure, Outcome

_NOTE = (
    "has statements that cannot run in a transaction: its rollback was checked on a copy of "
    "the shadow database"
)


def clone_trip(s: ShadowSession, forward: Script, text: str, rollback: RollbackSource) -> Outcome:
    """The forward applied in statement groups; its rollback checked on a copy."""
    out = Outcome(notes=[_NOTE])
    before = s.model.snapshot()
    s.pipeline(*RESET_SESSION)
    failure = run_grouped(s, forward, text, s.c())
    s.pipeline(*RESET_SESSION)
    s.reload_model()  # groups are committed (before a failure too): the model follows
    if failure is not None:
        out.forward_failure = failure
        out.notes.append("the statement groups before the failure stayed applied")
        return out
    after = s.model.snapshot()
    prepared = out.prepared = rollback(forward, lambda: before, lambda: after).first()
    if prepared.script is not None:
        _on_copy(s, forward, prepared, before, out)
    return out


def _on_copy(
    s: ShadowSession, forward: Script, prepared: Prepared, before: Snapshot, out: Outcome
) -> None:
    # The template of CREATE DATABASE must have no other session: step out meanwhile.
    s.close()
    server = s.db.server
    try:
        copy = server.create_database("mr_rollback", template=s.db.name)
        try:
            _check_on(s, server.url_for(copy), copy, forward, prepared, before, out)
        finally:
            server.drop_database(copy)
    finally:
        s.connect(install=False)
        s.reset_refs()


def _check_on(
    s: ShadowSession,
    url: str,
    copy: str,
    forward: Script,
    prepared: Prepared,
    before: Snapshot,
    out: Outcome,
) -> None:
    with s.db.server.connect(url) as setup:
        # The copy lacks the database-level settings (search_path...).
        for lost in copy_database_settings(setup, s.db.name, copy):
            out.notes.append(f"the copy could not take the setting {lost}")
    assert prepared.script is not None
    with s.db.server.connect(url) as clone:
        as_runner = AsRunner(forward.source)
        failure = run_grouped(s, prepared.script, prepared.text, clone, as_runner)
        if failure is not None:
            out.rollback_failure = failure
            return
        out.notes.extend(as_runner.notes())
        s.full_checks += 1
        out.differences = diff_objects(before.objects, take_snapshot(clone).objects)


def run_grouped(
    s: ShadowSession,
    script: Script,
    text: str,
    conn: psycopg.Connection[Any],
    runner: AsRunner | None = None,
) -> Failure | None:
    """Consecutive transactional statements in a transaction; the others alone."""
    group: list[Statement] = []

    def flush() -> Failure | None:
        if not group:
            return None
        conn.execute("BEGIN", prepare=False)
        failure = s.run_on(conn, group, text, runner)
        conn.execute("ROLLBACK" if failure else "COMMIT", prepare=False)
        group.clear()
        return failure

    for st in executable(script.statements):
        if classify(st).transactional:
            group.append(st)
            continue
        failure = flush() or s.run_on(conn, [st], text)
        if failure is not None:
            return failure
    return flush()
