"""Verification split across shadow databases falls back to one when a migration reaches
outside its own database (verify/shared_effects.py), and says so once; verdicts stay those of
one database.

The workers' databases share one shadow CLUSTER: a role made by one worker's migration is seen,
or collides, in another's, by timing. And catch-up replays earlier migrations forward only,
while one database also ran their rollback attempts: a sequence a rollback advanced stays
advanced there. Each case puts the odd migration in the first worker's range and one that
depends on it in the second's, in a project of 130 (the automatic choice splits it on 2+ CPUs).
Real PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from test_verify_jobs import _without_times
from verify_support import write_project

from migration_rollback.verify import run_verification
from migration_rollback.verify.parallel import split

pytestmark = pytest.mark.integration

COUNT, EARLY, LATE = 130, 10, 110


def _cases(tag: str) -> dict[str, tuple[tuple[str, str], tuple[str, str]]]:
    """Per case: (forward, rollback) of the early migration and of the late one."""
    role, setting, seq = f"vf_role_{tag}", f"vf.flag_{tag}", f"public.vf_seq_{tag}"
    return {
        "role": (
            (f"create role {role};\n", f"drop role {role};\n"),
            (f"create role {role};\n", f"drop role {role};\n"),
        ),
        "role_setting": (
            (f"alter role current_user set {setting} = 'on';\n",
             f"alter role current_user reset {setting};\n"),
            (f"alter role current_user set {setting} = 'off';\n",
             f"alter role current_user reset {setting};\n"),
        ),
        "setval_in_rollback": (
            (f"create sequence {seq};\n",
             f"select setval('{seq}', 100);\ndrop sequence {seq};\n"),
            ("do $$ begin if nextval('" + seq + "') > 50 then "
             "raise exception 'advanced by a rollback'; end if; end $$;\n",
             "select 1;\n"),
        ),
        "concurrently_in_rollback": (
            ("drop index public.t5_idx;\n",
             "create index concurrently t5_idx on public.t5 (id);\n"),
            ("create index t5_idx on public.t5 (id);\n", "drop index public.t5_idx;\n"),
        ),
    }  # fmt: skip


def _project(case: str, tag: str) -> list[tuple[str, str, str | None]]:
    early, late = _cases(tag)[case]
    project: list[tuple[str, str, str | None]] = [
        (f"t{n}", f"create table public.t{n} (id int);\n", f"drop table public.t{n};\n")
        for n in range(COUNT)
    ]
    project[4] = (
        "t5_index",
        "create index t5_idx on public.t5 (id);\n",
        "drop index public.t5_idx;\n",
    )
    project[5] = ("t5", "create table public.t5 (id int);\n", "drop table public.t5;\n")
    project[4], project[5] = project[5], project[4]
    project[EARLY] = (f"{case}_early", *early)
    project[LATE] = (f"{case}_late", *late)
    return project


@pytest.fixture
def tag(shadow_url: str) -> Iterator[str]:
    """A name part of this test's own; the roles and settings it leaves in the cluster go."""
    tag = uuid.uuid4().hex[:8]
    yield tag
    _clean(shadow_url, tag)


def _clean(shadow_url: str, tag: str) -> None:
    """What a run leaves in the shadow cluster (its databases go, its roles stay): each run
    starts from the same cluster."""
    with psycopg.connect(shadow_url, autocommit=True) as conn:
        conn.execute(f"drop role if exists vf_role_{tag}")
        conn.execute(f"alter role current_user reset vf.flag_{tag}")


def test_the_odd_migrations_fall_in_different_workers() -> None:
    (_, end), (start, _) = split(COUNT, 2)
    assert EARLY < end <= start <= LATE


@pytest.mark.parametrize(
    ("case", "one_database"),
    [
        ("role", True),  # without the fallback: the early one failed or not, by timing
        ("role_setting", True),
        ("setval_in_rollback", True),  # without it: the late one falsely verified when split
        ("concurrently_in_rollback", False),  # refused in the trip's transaction: no trace
    ],
)
def test_a_project_reaching_outside_its_database_is_verified_on_one(
    tmp_path: Path, shadow_url: str, case: str, one_database: bool, tag: str
) -> None:
    pairs = write_project(tmp_path, _project(case, tag))
    one = run_verification(pairs, shadow_url, jobs=1)
    _clean(shadow_url, tag)
    said: list[str] = []
    asked = run_verification(pairs, shadow_url, said.append, jobs=2)
    assert [_without_times(r.to_json()) for r in asked.results] == [
        _without_times(r.to_json()) for r in one.results
    ]
    fallback = [m for m in said if m.startswith("verifying with one shadow database")]
    assert len(fallback) == int(one_database), said
    assert all(pairs[EARLY].name in m for m in fallback)
    assert sum(m.startswith("shadow database") for m in said) == (1 if one_database else 2)


def test_the_automatic_choice_falls_back_too(
    tmp_path: Path, shadow_url: str, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --jobs: parallel for 130 migrations on 2+ CPUs, but not for this project."""
    monkeypatch.setattr("migration_rollback.verify.parallel.os.cpu_count", lambda: 4)
    pairs = write_project(tmp_path, _project("setval_in_rollback", tag))
    said: list[str] = []
    run = run_verification(pairs, shadow_url, said.append)
    assert run.results[LATE].status == "forward_failed"  # the rollback's setval is seen
    assert sum(m.startswith("verifying with one shadow database") for m in said) == 1
