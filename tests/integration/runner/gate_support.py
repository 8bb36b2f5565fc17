"""A run held at a gate (an advisory lock the test holds), to act on it while it waits there.

The run's own SQL takes the gate (`SELECT pg_advisory_lock(GATE)` in a migration, or a
deferred trigger that fires at COMMIT); the test holds it, waits for the run's session to be
seen waiting on it (never a sleep), acts (a signal, a terminated session), then lets it go.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from runner_support import Project

GATE = 424242  # one bigint key (objsubid 1): never the run lock's two int4 keys


def wait_for(condition: Callable[[], object], timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def gated(project: Project, query: str | None = None) -> bool:
    """A session waits at the gate (running `query`, when given: 'COMMIT')."""
    return bool(
        project.value(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1 "
            "AND l.objid = %s AND (%s::text IS NULL OR a.query = %s::text)",
            [GATE, query, query],
        )
    )


@contextmanager
def gated_apply(
    project: Project, result: Path, query: str | None = None, url: str | None = None
) -> Iterator[tuple[psycopg.Connection[tuple[object, ...]], subprocess.Popen[str]]]:
    """`apply --result-file result` started with the gate held, yielded once it waits there;
    the gate is released on leaving."""
    with psycopg.connect(project.url, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", [GATE])
        proc = subprocess.Popen(
            [sys.executable, "-m", "migration_rollback", "apply", "--result-file", str(result)],
            cwd=project.root,
            env=project.environment(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: gated(project, query) or proc.poll() is not None)
            assert proc.poll() is None, proc.communicate()
            yield gate, proc
        finally:
            gate.execute("SELECT pg_advisory_unlock_all()")
            if proc.poll() is None and proc.returncode is None:
                proc.wait(timeout=120)
