"""A scratch directory that fills is said as such: initdb's failure names the directory, why it
was chosen, initdb's own words and the override; during a replay it is not the migration's
failure but a ShadowResourcesError saying the same (exit 2, no verdict), whether PostgreSQL
reported it (SQLSTATE 53100, a sort spilling to disk) or restarted because it could not write
its WAL (the session lost), and whatever the verifier was doing: a forward, a rollback, the
commit's bookkeeping, a rollback on a copy (the clone trip). On real tmpfs mounts of 2 and
64 MiB."""

from __future__ import annotations

import contextlib
import errno
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner
from verify_support import write_project

from migration_rollback.cli import app
from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.verify import batch, cluster, verify_project
from migration_rollback.verify.as_apply import AsApply
from migration_rollback.verify.room import WAL_SEGMENT, free_bytes
from migration_rollback.verify.scratch import SCRATCH_DIR_ENV, ShadowResourcesError
from migration_rollback.verify.shadow import shadow_database

pytestmark = pytest.mark.integration

SORT_SPILL = (
    "create table public.t (id int);\n"
    "do $$ begin perform count(*) from (select g, repeat(md5(g::text), 30)\n"
    "  from generate_series(1, 300000) g order by 2) s; end $$;\n"
)
# The same sort in a rollback: the forward ran; the check of its rollback fills the directory.
SPILLING_ROLLBACK = (
    "do $$ begin perform count(*) from (select g, repeat(md5(g::text), 30)\n"
    "  from generate_series(1, 300000) g order by 2) s; end $$;\n"
    "drop table public.t;\n"
)
WAL_FILL = (
    "create table public.big (id int primary key, pad text);\n"
    "insert into public.big select g, repeat(md5(g::text), 20)\n"
    "  from generate_series(1, 200000) g;\n"
)


@contextlib.contextmanager
def tmpfs_named(size: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmpfs of `size` named in the scratch variable (mounting needs root, or is skipped)."""
    point = Path(tempfile.mkdtemp(prefix="scratch-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    monkeypatch.setenv(SCRATCH_DIR_ENV, str(point))
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)
        point.rmdir()


@pytest.fixture
def small_tmpfs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tmpfs_named("64m", monkeypatch) as point:
        yield point


@pytest.mark.parametrize("forward", [SORT_SPILL, WAL_FILL], ids=["sqlstate-53100", "wal-restart"])
def test_a_full_scratch_directory_is_said_not_a_migration_failure(
    small_tmpfs: Path, tmp_path: Path, forward: str
) -> None:
    pairs = write_project(tmp_path, [("big", forward, "drop table public.t;")])
    with pytest.raises(DatabaseUnavailableError) as caught:
        verify_project(pairs, None)
    said = str(caught.value)
    assert f"ran out of room in {small_tmpfs} (chosen because {SCRATCH_DIR_ENV} names it)" in said
    assert "No space left on device" in said
    assert f"set {SCRATCH_DIR_ENV}=/tmp" in said
    assert list(small_tmpfs.iterdir()) == []  # the cluster removed all the same


def test_initdb_out_of_room_is_said_with_the_directory_and_its_tail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It was a bare CalledProcessError: no directory, no reason, no way out.
    with tmpfs_named("2m", monkeypatch) as point:
        with pytest.raises(DatabaseUnavailableError) as caught:
            cluster.create_cluster()
        said = str(caught.value)
        assert said.startswith(
            f"initdb failed in {point} (chosen because {SCRATCH_DIR_ENV} names it): "
        )
        assert "No space left on device" in said
        assert said.endswith(
            f"set {SCRATCH_DIR_ENV}=/tmp (or another directory with more room) and run again"
        )
        assert list(point.iterdir()) == []


def said_full(said: str, point: Path) -> None:
    assert f"ran out of room in {point} (chosen because {SCRATCH_DIR_ENV} names it)" in said
    assert "No space left on device" in said
    assert f"set {SCRATCH_DIR_ENV}=/tmp" in said


PEOPLE = "create table public.people (id int primary key, nick text);\n" + (
    "insert into public.people select g, 'n' || g from generate_series(1, 50) g;\n"
)
# A forward that cannot run in a transaction: its rollback is checked on a copy.
CONCURRENT = "create table public.t (id int);\ncreate index concurrently t_id on public.t (id);\n"


@pytest.mark.parametrize(
    ("command", "migrations"),
    [
        ("validate", [("big", SORT_SPILL, "drop table public.t;")]),
        ("validate", [("t", "create table public.t (id int);\n", SPILLING_ROLLBACK)]),
        ("validate", [("t", CONCURRENT, SPILLING_ROLLBACK)]),
        ("generate", [("big", SORT_SPILL, None)]),  # the state-aware path
    ],
    ids=["forward", "rollback", "clone-trip", "generate"],
)
def test_the_cli_stops_with_exit_2_and_no_verdict(
    small_tmpfs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    migrations: Any,
) -> None:
    write_project(tmp_path, migrations)
    before = sorted(tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIGRATION_ROLLBACK_SHADOW_URL", raising=False)
    json = ["--format", "json"] if command == "validate" else []
    result = CliRunner().invoke(app, [command, "--verify", *json])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, out
    said_full(out, small_tmpfs)
    assert f"while replaying 20250101000001_{migrations[0][0]}," in out
    assert '"verification"' not in out  # no verdict, not even a failing one
    assert sorted(tmp_path.rglob("*")) == before  # nothing written (generate: no rollback)
    assert list(small_tmpfs.iterdir()) == []


def test_a_rollback_filling_the_directory_on_the_copy_is_no_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for the copy of the shadow database (at 64 MiB its CREATE DATABASE fails first, as
    # above), not for the rollback's sort, run on the copy's own connection.
    pairs = write_project(tmp_path, [("t", CONCURRENT, SPILLING_ROLLBACK)])
    with tmpfs_named("160m", monkeypatch) as point:
        with pytest.raises(ShadowResourcesError) as caught:
            verify_project(pairs, None)
        said_full(str(caught.value), point)
        assert "base/pgsql_tmp/" in str(caught.value)  # the sort spilling on the copy
        assert list(point.iterdir()) == []


def test_a_disk_full_in_the_commit_bookkeeping_is_no_migration_failure(
    small_tmpfs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The forward ran; the directory fills before the rows `apply` writes before COMMIT (the
    # capture of the dropped column). That was the migration's forward_failed.
    commit_records = AsApply.commit_records

    def full_first(self: AsApply, conn: Any) -> None:
        if self.records and self.version == "20250101000002":
            fill(small_tmpfs / "filler")
        commit_records(self, conn)

    monkeypatch.setattr(AsApply, "commit_records", full_first)
    pairs = write_project(
        tmp_path,
        [
            ("people", PEOPLE, None),
            ("drop", "alter table public.people drop column nick;\n",
             "alter table public.people add column nick text;\n"),
        ],
    )  # fmt: skip
    try:
        with pytest.raises(ShadowResourcesError) as caught:
            verify_project(pairs, None)
    finally:
        (small_tmpfs / "filler").unlink(missing_ok=True)
    said_full(str(caught.value), small_tmpfs)
    assert "while replaying 20250101000002_drop," in str(caught.value)
    assert list(small_tmpfs.iterdir()) == []


def fill(path: Path) -> None:
    """Write `path` until its filesystem has no byte left."""
    with path.open("wb", buffering=0) as f:
        for chunk in (1024**2, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


@pytest.mark.parametrize("full", [True, False], ids=["room-short", "room-left"])
def test_a_session_lost_with_the_room_short_is_said_as_such(
    full: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server that cannot write its WAL drops every session; its log is on the same full
    # filesystem. The free room (statvfs) tells: a session ended with the room short stops the
    # run, one ended with room left stays the error it was. Room left: a tmpfs large enough
    # that a fresh cluster leaves well over a WAL segment free (asserted, not assumed).
    with (
        tmpfs_named("64m" if full else "256m", monkeypatch) as point,
        shadow_database(None) as db,
        db.connect() as conn,
        db.connect() as killer,
    ):
        if full:
            fill(point / "filler")
        free = free_bytes(point)
        assert free is not None
        assert (free < WAL_SEGMENT) is full, f"{point}: {free} bytes free"
        try:
            killer.execute("select pg_terminate_backend(%s)", [conn.info.backend_pid])
            caught = ShadowResourcesError if full else psycopg.OperationalError
            with pytest.raises(caught) as raised:
                conn.execute("select 1")
        finally:
            (point / "filler").unlink(missing_ok=True)
    if full:
        said_full(str(raised.value), point)
        assert "the server dropped every session" in str(raised.value)


SPILL_QUERY = (
    "select count(*) from (select g, repeat(md5(g::text), 30) from generate_series(1, 300000) g "
    "order by 2) s"
)


def send_alone(conn: Any) -> None:
    conn.execute(SPILL_QUERY)


def send_in_a_pipeline(conn: Any) -> None:
    with conn.pipeline():
        conn.execute("select 1")
        conn.execute(SPILL_QUERY)


def send_in_a_batch(conn: Any) -> None:
    batch.run(conn, ["select 1", SPILL_QUERY])


@pytest.mark.parametrize("send", [send_alone, send_in_a_pipeline, send_in_a_batch])
def test_every_way_a_statement_is_sent_stops_on_disk_full(small_tmpfs: Path, send: Any) -> None:
    # psycopg raises from a statement sent alone or in a pipeline; batch.py reads its results
    # itself and returned the error to its caller (who took it for the script's failure).
    with shadow_database(None) as db, db.connect() as conn:
        with pytest.raises(ShadowResourcesError) as raised:
            send(conn)
        said_full(str(raised.value), small_tmpfs)
        assert "pgsql_tmp" in str(raised.value)


INTERNAL = "do $$ begin raise exception using errcode = 'XX000', message = 'checkpoint request failed'; end $$"  # noqa: E501


def batch_returns(conn: Any) -> None:
    assert batch.run(conn, ["select 1", INTERNAL]) is not None  # returned, not raised


def batch_then_raises(conn: Any) -> None:
    then = batch.Batch(conn)
    then.execute(INTERNAL)
    batch.run(conn, ["select 1"], then)


@pytest.mark.parametrize("send", [batch_returns, batch_then_raises], ids=["returned", "then"])
def test_a_batchs_internal_error_with_the_room_short_is_judged_as_a_raised_one(
    small_tmpfs: Path, send: Any
) -> None:
    # batch.py reads its results without psycopg raising; the one rule (room.refusal) must still
    # judge them: an internal error with the room short stops the run, whether batch.run
    # returns it (a script's command) or raises it (a `then` command's).
    with shadow_database(None) as db, db.connect() as conn:
        fill(small_tmpfs / "filler")
        try:
            with pytest.raises(ShadowResourcesError) as raised:
                send(conn)
        finally:
            (small_tmpfs / "filler").unlink(missing_ok=True)
    said_full(str(raised.value), small_tmpfs)
    assert "the server said: checkpoint request failed" in str(raised.value)
