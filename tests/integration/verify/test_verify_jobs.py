"""Verification split across several shadow databases gives the same verdicts as one.

A worker that checks migrations [a, b) first replays [0, a) forward only (verify/parallel.py,
verify/api.py); whatever the replay remembers there (a failed forward replayed in part, a
migration that does not parse, a dashboard extension enabled, a migration run outside a
transaction) must come out the same as when one database replays them all. The project puts
one of each before every split point jobs=2 and jobs=3 choose, and the checked migrations
just after them depend on it. Real PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from verify_support import write_project

from migration_rollback.verify import generate_verified, parsed_files, run_verification
from migration_rollback.verify.parallel import split
from migration_rollback.verify.replayer import Replayer
from migration_rollback.verify.session import prepare_shadow
from migration_rollback.verify.shadow import (
    _strategy,
    prepared_template,
    scratch_database,
    shadow_server,
)

pytestmark = pytest.mark.integration

PROJECT: list[tuple[str, str, str | None]] = [
    (
        "half_broken",  # fails: replayed in part, the later ones note it
        "create table public.invoices (id bigint primary key, c bigint);\n"
        "alter table public.never_created add column note text;\n"
        "create table public.lines (x int references public.nowhere (id));\n",
        "drop table public.invoices;\n",
    ),
    (
        "not_postgres",  # does not parse: its parsing pieces replayed
        "create table public.profiles (id uuid primary key);\nraise notice 'done';\n",
        "drop table public.profiles;\n",
    ),
    (
        "concurrently",  # cannot run in a transaction: checked on a copy
        "create index concurrently invoices_c_idx on public.invoices (c);\n",
        "drop index concurrently public.invoices_c_idx;\n",
    ),
    (
        "uses_cron",  # pg_cron as the dashboard enables it: no migration creates it
        "select cron.schedule('purge', '0 3 * * *', 'select 1');\n",
        "select cron.unschedule('purge');\n",
    ),
    ("customers", "create table public.customers (id bigint primary key);\n", None),
    (
        "wrong_rollback",  # mismatch
        "alter table public.invoices add column total numeric;\n",
        "alter table public.invoices add column other int;\n",
    ),
    (
        "failing_rollback",
        "alter table public.customers add column name text;\n",
        "alter table public.missing drop column name;\n",
    ),
    (
        "uses_a_skipped_one",  # depends on half_broken's skipped statement
        "create index lines_x_idx on public.lines (x);\n",
        "drop index public.lines_x_idx;\n",
    ),
    (
        "uses_the_pieces",
        "alter table public.profiles add column name text;\n"
        "create index invoices_total_idx on public.invoices (total);\n",
        "drop index public.invoices_total_idx;\nalter table public.profiles drop column name;\n",
    ),
    (
        "cron_again",
        "select cron.schedule('nightly', '0 1 * * *', 'select 2');\n",
        "select cron.unschedule('nightly');\n",
    ),
    ("last", "create table public.notes (id int);\n", "drop table public.notes;\n"),
]


_STAMP = re.compile(r"__\d{8}t\d{6}z")  # when an archive table was named (as_runner.py)


def _without_times(doc: Any) -> Any:
    """The document without its times: elapsed milliseconds, archive names' time stamps."""
    if isinstance(doc, str):
        return _STAMP.sub("__<time>", doc)
    if isinstance(doc, dict):
        return {k: _without_times(v) for k, v in doc.items() if not k.endswith("_ms")}
    if isinstance(doc, list):
        return [_without_times(v) for v in doc]
    return doc


def test_the_splits_fall_after_the_hard_cases() -> None:
    # Each split point has a failed, an unparsed, a non-transactional and a dashboard
    # migration in some worker's catch-up (what the test is about).
    for jobs in (2, 3):
        starts = [a for a, _ in split(len(PROJECT), jobs)][1:]
        assert len(starts) == jobs - 1
        assert all(a >= 4 for a in starts), (jobs, starts)


@pytest.mark.parametrize("jobs", [2, 3])
def test_run_verification_gives_the_same_verdicts_split(
    tmp_path: Path, shadow_url: str, jobs: int
) -> None:
    pairs = write_project(tmp_path, PROJECT)
    one = run_verification(pairs, shadow_url, jobs=1)
    said: list[str] = []
    several = run_verification(pairs, shadow_url, said.append, jobs=jobs)
    assert [_without_times(r.to_json()) for r in several.results] == [
        _without_times(r.to_json()) for r in one.results
    ]
    statuses = [r.status for r in one.results]
    assert {"forward_failed", "mismatch", "rollback_failed", "verified"} <= set(statuses)
    assert several.drift == []
    assert one.drift == []
    verdicts = [m.split(":", 1)[0] for m in said if not m.startswith(("shadow", "baseline"))]
    assert verdicts == [p.name for p in pairs]  # said in migration order
    assert sum(m.startswith("shadow database") for m in said) == jobs


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_each_file_is_parsed_once_a_run(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """The scan for shared effects, the catch-ups and the checks share the run's parses
    (verify/parsed_files.py): each forward and each rollback file is parsed at most once."""
    pairs = write_project(tmp_path, PROJECT)
    parsed: list[str] = []
    parse = parsed_files.parse_script

    def counted(text: str, source: str) -> Any:
        parsed.append(source)
        return parse(text, source)

    monkeypatch.setattr(parsed_files, "parse_script", counted)
    run = run_verification(pairs, shadow_url, jobs=jobs)
    assert len(run.results) == len(pairs)
    assert len(parsed) == len(set(parsed))  # none twice
    files = {str(p.forward_path) for p in pairs}
    files |= {str(p.rollback_path) for p in pairs if p.rollback_path is not None}
    if jobs > 1:  # the scan reads them all (one database: a failed forward's rollback is not)
        assert set(parsed) == files
    else:
        assert {str(p.forward_path) for p in pairs} <= set(parsed) <= files


@pytest.mark.parametrize("jobs", [2, 3])
def test_generate_verified_gives_the_same_rollbacks_split(
    tmp_path: Path, shadow_url: str, jobs: int
) -> None:
    pairs = write_project(tmp_path, [(n, f, None) for n, f, _ in PROJECT])
    one = generate_verified(pairs, shadow_url, jobs=1)
    several = generate_verified(pairs, shadow_url, jobs=jobs)
    assert [_without_times(g.to_json()) for g in several] == [
        _without_times(g.to_json()) for g in one
    ]
    assert [g.sql_body for g in several] == [g.sql_body for g in one]
    # The generator learned the catch-up's forwards: a later body knows what they built.
    assert any(g.sql_body for g in several[5:])


@pytest.mark.parametrize("error", [RuntimeError("internal"), KeyboardInterrupt()])
def test_a_failing_worker_stops_the_run_and_every_shadow_database_is_dropped(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    pairs = write_project(tmp_path, PROJECT)
    failing = pairs[9].name  # in the last worker's share
    replay = Replayer.replay

    def replay_failing(self: Replayer, name: str, *args: Any) -> Any:
        if name == failing and not self.forward_only:
            raise error
        return replay(self, name, *args)

    monkeypatch.setattr(Replayer, "replay", replay_failing)
    said: list[str] = []
    with pytest.raises(type(error)):
        run_verification(pairs, shadow_url, said.append, jobs=3)
    made = [m.split()[2] for m in said if m.startswith("shadow database")]
    assert len(made) >= 1  # the first worker's; the later ones' kept and lost with the run
    with psycopg.connect(shadow_url, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'mr\\_shadow\\_%'"
        ).fetchall()
    assert left == []


def _database_settings(conn: psycopg.Connection[Any], name: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT r.rolname, unnest(s.setconfig) FROM pg_db_role_setting s"
        " LEFT JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE d.datname = %s ORDER BY 1 NULLS FIRST, 2",
        [name],
    ).fetchall()


def test_a_worker_copy_of_the_template_has_what_a_loaded_shadow_has(shadow_url: str) -> None:
    """A copy does not inherit ALTER DATABASE ... SET (the baseline's search_path, capture's
    track_functions): the worker's shadow gets them again, and both databases are dropped."""
    with shadow_server(shadow_url) as server, psycopg.connect(shadow_url, autocommit=True) as c:
        with scratch_database(server) as loaded, Replayer(loaded):
            expected = _database_settings(c, loaded.name)
        with (
            prepared_template(server, lambda db: prepare_shadow(db, lambda _m: None)) as name,
            scratch_database(server, name) as copy,
            Replayer(copy) as replayer,
        ):
            assert copy.prepared
            assert _database_settings(c, copy.name) == expected
            assert replayer.consistency() == []
        left = c.execute("SELECT 1 FROM pg_database WHERE datname IN (%s, %s)", [name, copy.name])
        assert left.fetchall() == []


@pytest.mark.parametrize(
    ("version", "clause"),
    [(140011, ""), (150008, " STRATEGY FILE_COPY"), (170002, " STRATEGY FILE_COPY")],
)
def test_the_copy_names_a_strategy_only_where_the_server_knows_one(
    version: int, clause: str
) -> None:
    assert _strategy(version, file_copy=True) == clause
    assert _strategy(version, file_copy=False) == ""
