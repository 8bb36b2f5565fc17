"""Rolling back a chain of migrations: what a later migration of the same run wrote is no conflict.

A restore refuses (`--on-conflict fail`) to overwrite rows changed since the migration, as
measured by row versions. When a run rolls back several migrations (`execute --to`), a row an
earlier one inserted and a later one updated carries the later migration's row version: that
write is undone in the same run, it is no one's change to keep. Only a write by another
transaction (the application) is a conflict.
"""

from __future__ import annotations

import pytest
from capture_support import apply, generate, rows
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = "20250101000001_users"
SEED = "20250102000001_seed"
FIX = "20250103000001_fix"


@pytest.fixture
def chain(project: Project) -> Project:
    (project.migrations / f"{BASE}.sql").write_text(
        "CREATE TABLE public.users (id bigint PRIMARY KEY, email text);\n"
        "INSERT INTO public.users VALUES (1, 'kept@x');\n"
    )
    (project.migrations / f"{SEED}.sql").write_text(
        "INSERT INTO public.users VALUES (2, 'B@X'), (3, 'C@X');\n"
    )
    (project.migrations / f"{FIX}.sql").write_text(
        "UPDATE public.users SET email = lower(email) WHERE id = 2;\n"
    )
    generate(project)
    code, _doc, out = apply(project)
    assert code == 0, out
    return project


def test_a_later_migrations_write_in_the_same_run_is_no_conflict(chain: Project) -> None:
    run = chain.execute("--to", BASE[:14])

    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(chain, "public.users") == [(1, "kept@x")]


def test_an_application_write_is_still_a_conflict(chain: Project) -> None:
    chain.sql("UPDATE public.users SET email = 'app@x' WHERE id = 3")

    run = chain.execute("--to", BASE[:14])

    assert run.returncode == 3, run.stdout + run.stderr
    assert run.result is not None
    assert "changed again since" in run.result["error"]["message"]
    assert "1 row(s)" in run.result["error"]["message"]
    assert rows(chain, "public.users") == [(1, "kept@x"), (2, "b@x"), (3, "app@x")]
