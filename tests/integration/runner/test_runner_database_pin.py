"""`--expect-database`: the operator pins the rollback Job to the database its rehearsal ran
on (the Secret is read again when the Job's pod starts). A run that reaches another database
refuses before it writes anything, its audit row included; the same database is accepted."""

from __future__ import annotations

import re

import pytest
from runner_support import TIMELINE, Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
USAGE = 2


@pytest.fixture
def timeline(project: Project) -> Project:
    timeline_project(project)
    return project


def _rehearsed(project: Project) -> str:
    run = project.execute(TIMELINE, "--dry-run", tag="rehearsal")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    identity = str(run.result["database_identity"])
    assert re.fullmatch(r"[0-9]+/.+\(oid [0-9]+\)@[0-9a-f]{16}", identity), identity
    return identity


def test_the_rehearsed_database_is_accepted(timeline: Project) -> None:
    identity = _rehearsed(timeline)

    run = timeline.execute(TIMELINE, "--expect-database", identity)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["database_identity"] == identity


def test_another_database_is_refused_before_any_write(timeline: Project) -> None:
    """The same server, the same name: only the oid differs (what a pin of another database
    whose URL digest happens to match would look like) -- refused, nothing written."""
    identity = _rehearsed(timeline)
    other = re.sub(r"\(oid [0-9]+\)", "(oid 1)", identity)
    audit_rows = len(timeline.audit())
    before = schema_fingerprint(timeline.url)

    run = timeline.execute(TIMELINE, "--expect-database", other)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(timeline.url) == before
    assert run.result is not None
    assert "not to the rehearsed" in run.result["error"]["message"]
    assert "the database name and oid differs" in run.result["error"]["message"]
    assert run.result["database_identity"] == identity
    assert len(timeline.audit()) == audit_rows  # not even the audit row


def test_a_malformed_pin_is_a_usage_error(timeline: Project) -> None:
    run = timeline.execute(TIMELINE, "--expect-database", "db1")

    assert run.returncode == USAGE, run.stdout + run.stderr
    assert "--expect-database must be an identity" in run.stdout + run.stderr


def test_a_password_equal_to_the_database_name_keeps_the_pin(timeline: Project) -> None:
    """Supabase's local default is postgres:postgres@.../postgres: the identity a rehearsal
    reports names the database, and a password equal to that name masked it there, so the
    real run refused its own rehearsal's identity (exit 3) every time."""
    name = timeline.url.rsplit("/", 1)[1]
    env = {"PGPASSWORD": name}
    rehearsal = timeline.execute(TIMELINE, "--dry-run", env=env, tag="rehearsal")
    assert rehearsal.returncode == 0, rehearsal.stdout + rehearsal.stderr
    assert rehearsal.result is not None
    identity = str(rehearsal.result["database_identity"])
    assert f"/{name}(oid " in identity

    run = timeline.execute(TIMELINE, "--expect-database", identity, env=env)

    assert run.returncode == 0, run.stdout + run.stderr
