"""A COMMIT that landed while its answer was lost with the connection: apply says it committed.

The relay (cut_support.py) drops the server's answer to COMMIT and closes the connection, so
the COMMIT lands unseen; the read-back on a new connection finds it landed. The session is
gone, so nothing more runs on it: the run stops with DEFERRED_FAILED ("committed, but what had
to run after it did not"), naming the statements after COMMIT left pending and the migrations
not applied, never CONNECTION_LOST ("nothing applied; retryable"). The next apply finishes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from capture_support import apply
from cut_support import cutting_relay
from gate_support import GATE, gated_apply
from runner_support import Project

pytestmark = pytest.mark.integration

OK = 0
DEFERRED_FAILED = 12
FIRST, SECOND = "20250101000001", "20250101000002"

# A deferred trigger waits at the gate inside COMMIT, so the relay is armed before the answer.
_HELD_AT_COMMIT = (
    "CREATE TABLE public.a (id int);\n"
    "CREATE FUNCTION public.at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN PERFORM pg_advisory_lock({GATE}); RETURN NULL; END $$;\n"
    "CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON public.a "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.at_commit();\n"
    "INSERT INTO public.a VALUES (1);\n"
)
_AFTER_COMMIT = "CREATE INDEX CONCURRENTLY a_id_idx ON public.a (id);\n"


def _answer_lost(project: Project) -> tuple[int, dict[str, Any], str]:
    result = project.root / "lost.json"
    with (
        cutting_relay(project.url) as (relay, url),
        gated_apply(project, result, query="COMMIT", url=url) as (gate, proc),
    ):
        relay.armed.set()
        gate.execute("SELECT pg_advisory_unlock_all()")  # COMMIT goes on; its answer is lost
        out, err = proc.communicate(timeout=120)
        assert relay.cut.is_set(), out + err
    return proc.returncode, json.loads(Path(result).read_text()), out + err


def test_statements_after_a_commit_that_landed_unseen_are_left_pending(project: Project) -> None:
    (project.migrations / f"{FIRST}_a.sql").write_text(_HELD_AT_COMMIT + _AFTER_COMMIT)

    code, doc, out = _answer_lost(project)

    assert project.versions() == [FIRST]  # the COMMIT landed
    assert code == DEFERRED_FAILED, out
    assert doc["committed"] == [FIRST]
    assert doc["commit_read_back"] == {FIRST: "landed"}
    error = str(doc["error"])
    assert "it landed: committed" in error, error
    assert "1 statement(s) that run after COMMIT did not run" in error, error
    assert project.value("SELECT to_regclass('public.a_id_idx')") is None
    code, _doc, out = apply(project)
    assert code == OK, out
    assert project.value("SELECT to_regclass('public.a_id_idx')") is not None


def test_later_migrations_after_a_commit_that_landed_unseen_are_named(project: Project) -> None:
    (project.migrations / f"{FIRST}_a.sql").write_text(_HELD_AT_COMMIT)
    (project.migrations / f"{SECOND}_b.sql").write_text("CREATE TABLE public.b (id int);\n")

    code, doc, out = _answer_lost(project)

    assert project.versions() == [FIRST]
    assert code == DEFERRED_FAILED, out
    assert doc["committed"] == [FIRST]
    assert f"not applied: {SECOND}_b" in str(doc["error"]), out
    code, _doc, out = apply(project)
    assert code == OK, out
    assert project.versions() == [FIRST, SECOND]


def test_the_last_migration_landed_unseen_with_nothing_after_it_succeeds(project: Project) -> None:
    (project.migrations / f"{FIRST}_a.sql").write_text(_HELD_AT_COMMIT)

    code, doc, out = _answer_lost(project)

    assert code == OK, out
    assert doc["committed"] == [FIRST]
    assert any("the connection broke during the COMMIT" in w for w in doc["warnings"]), doc
    assert project.versions() == [FIRST]
