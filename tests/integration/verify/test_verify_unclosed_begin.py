"""A forward that opens a transaction and never commits it applies nothing under psql or the
Supabase CLI (the file ends with the transaction open: rolled back). The replay applies none
of it either: before, it committed it, so a later migration using what it made was verified
on a shadow the real database never matched (Mirxa27/newomen: two false verified). Real
PostgreSQL, synthetic migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.cli.app import made_names
from migration_rollback.project.workspace import load
from migration_rollback.sql.uncommitted import UNCLOSED_BEGIN
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

PROJECT: list[tuple[str, str, str | None]] = [
    ("never_committed", "BEGIN;\ncreate table public.challenges (id int primary key);\n", None),
    (
        "uses_it",
        "alter table public.challenges add column title text;\n",
        "alter table public.challenges drop column title;\n",
    ),
    (
        "committed",
        "BEGIN;\ncreate table public.teams (id int primary key);\nCOMMIT;\n",
        "drop table public.teams;\n",
    ),
]


def test_nothing_of_a_never_committed_forward_is_applied(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(tmp_path, PROJECT)
    project = made_names(load(tmp_path / "supabase" / "migrations"))
    results = run_verification(pairs, shadow_url, project=project).results
    assert statuses(results) == ["forward_failed", "forward_failed", "verified"], explain(results)
    first, second = results[0], results[1]
    assert first.message == UNCLOSED_BEGIN, explain(results)
    assert first.location is not None
    assert first.location.endswith("_never_committed.sql:1:1")
    assert first.cause is not None
    assert first.cause.kind == "migration_error"
    assert second.cause is not None
    assert (second.cause.kind, second.cause.subject) == ("depends_on", pairs[0].name)


DISCARDED: list[tuple[str, str, str | None]] = [
    ("rolled_back", "BEGIN;\ncreate table public.goals (id int primary key);\nROLLBACK;\n", None),
    (
        "uses_goals",
        "alter table public.goals add column title text;\n",
        "alter table public.goals drop column title;\n",
    ),
    (
        "chained",
        "BEGIN;\ncreate table public.tasks (id int);\nCOMMIT AND CHAIN;\n"
        "create table public.notes (id int);\n",
        "drop table public.notes;\ndrop table public.tasks;\n",
    ),
]


def test_nothing_of_a_rolled_back_or_chained_forward_is_applied(
    tmp_path: Path, shadow_url: str
) -> None:
    """A ROLLBACK discards the block (verified before: the replay dropped the ROLLBACK and
    committed the table, and the next migration was verified over it); a COMMIT AND CHAIN
    opens a transaction the file never closes."""
    pairs = write_project(tmp_path, DISCARDED)
    project = made_names(load(tmp_path / "supabase" / "migrations"))
    results = run_verification(pairs, shadow_url, project=project).results
    assert statuses(results) == ["forward_failed"] * 3, explain(results)
    assert results[0].message.startswith("ROLLBACK discards what ran before it"), explain(results)
    assert str(results[0].location).endswith("_rolled_back.sql:3:1")
    assert results[1].cause is not None
    assert (results[1].cause.kind, results[1].cause.subject) == ("depends_on", pairs[0].name)
    assert results[2].message == UNCLOSED_BEGIN
    assert str(results[2].location).endswith("_chained.sql:3:1")
