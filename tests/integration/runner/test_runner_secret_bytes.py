"""A database URL or PGPASSWORD holding bytes that are not UTF-8 (what a Kubernetes Secret
with such a value gives the Job's environment) ends each command with its documented exit
code and a message naming the URL, with a result file and no piece of the secret anywhere.
It ended every command as "internal error: UnicodeEncodeError" (exit 1) and, for `execute`,
without the result the operator reads. And a connection the client itself configured wrong (an
unknown service, SSL required of a server without it) is not retryable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from runner_support import TIMELINE, Project, timeline_project
from tests.leaks import leaked

pytestmark = pytest.mark.integration

SECRET = b"pw\xffZq7xK9"


def run_with_bytes(project: Project, args: list[str], extra: dict[bytes, bytes]) -> tuple[int, str]:
    env = {k.encode(): v.encode() for k, v in project.environment().items()}
    env.update(extra)
    proc = subprocess.run(
        [sys.executable, "-m", "migration_rollback", *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "backslashreplace")


def assert_no_piece(text: str) -> None:
    readable = SECRET.decode("utf-8", "backslashreplace")
    assert not leaked("Zq7xK9", text), text
    assert readable not in text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["execute", TIMELINE, "--dry-run"], 7),
        (["apply", "--dry-run"], 7),
        (["captures", "list"], 2),
    ],
    ids=["execute", "apply", "captures"],
)
def test_a_url_with_such_bytes_is_refused_by_name(
    project: Project, tmp_path: Path, args: list[str], code: int
) -> None:
    timeline_project(project)
    url = b"postgresql://u:" + SECRET + b"@127.0.0.1:1/db"
    result = tmp_path / "result.json"
    extra = ["--result-file", str(result)] if args[0] != "captures" else []

    status, printed = run_with_bytes(
        project, [*args, *extra], {b"MIGRATION_ROLLBACK_DATABASE_URL": url}
    )

    assert status == code, printed
    assert "holds bytes that are not UTF-8 text" in printed
    assert "internal error" not in printed
    assert_no_piece(printed)
    if extra:
        doc = json.dumps(json.loads(result.read_text()))
        assert "holds bytes that are not UTF-8 text" in doc
        assert_no_piece(doc)


@pytest.mark.parametrize("command", [["execute", TIMELINE, "--dry-run"], ["captures", "list"]])
def test_a_pgpassword_with_such_bytes_is_used_and_never_shown(
    project: Project, command: list[str]
) -> None:
    timeline_project(project)
    # The test server trusts local connections: the password is sent to no one, but every
    # output is still scrubbed of it (the redactor used to fail on it first: exit 1).
    status, printed = run_with_bytes(project, command, {b"PGPASSWORD": SECRET})
    assert status == 0, printed
    assert_no_piece(printed)


@pytest.mark.parametrize(
    ("url", "env", "said"),
    [
        # libpq versions word it differently (newer: the missing file; older: the service).
        (
            "service=nosuch",
            {b"PGSERVICEFILE": b"/nonexistent"},
            r'definition of service "nosuch"|service file "/nonexistent" not found',
        ),
        (None, {}, r"server does not support SSL"),
    ],
    ids=["unknown-service", "ssl-required"],
)
def test_a_connection_the_client_configured_wrong_is_not_retried(
    project: Project, tmp_path: Path, url: str | None, env: dict[bytes, bytes], said: str
) -> None:
    # Both were retryable: the operator ran the Job again, up to spec.job.retries times,
    # while the application was down, for a failure no retry can change.
    target = url or f"{project.url}?sslmode=require"  # the test server has no SSL
    result = tmp_path / "result.json"
    status, printed = run_with_bytes(
        project,
        ["execute", TIMELINE, "--dry-run", "--result-file", str(result)],
        {b"MIGRATION_ROLLBACK_DATABASE_URL": target.encode(), **env},
    )
    assert status == 7, printed
    doc = json.loads(result.read_text())
    assert re.search(said, doc["error"]["message"]), doc["error"]["message"]
    assert doc["retryable"] is False
