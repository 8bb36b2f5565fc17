"""The pg-schema-diff peer (bench/corpus/peers/pgschemadiff), built by peers/build.sh and run on
a real PostgreSQL: its plan takes the database after a migration back to the one before it, and
its failures are one line without the connection's password.

The build is cached by source version (~/.cache/migration-rollback/peers); a cold one takes
about half a minute on two free cores."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.integration
BUILD = Path(__file__).resolve().parents[3] / "bench" / "corpus" / "peers" / "build.sh"

BEFORE = """
create table public.items (id bigint primary key, name text not null);
create view public.item_names as select id, name from public.items;
"""
# A column, an index, a check and a function: what the plan must take away again.
FORWARD = """
alter table public.items add column price numeric(10, 2) default 0;
create index items_name on public.items (name);
alter table public.items add constraint price_positive check (price >= 0);
create function public.item_count() returns bigint language sql
    as 'select count(*) from public.items';
"""


@pytest.fixture(scope="module")
def binary() -> Path:
    if not (os.environ.get("GO") or shutil.which("go") or Path("/usr/local/go/bin/go").exists()):
        pytest.skip("the Go toolchain is not installed (scripts/setup installs it)")
    done = subprocess.run(
        ["bash", str(BUILD), "pgschemadiff"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def databases(pg_server: Any) -> Iterator[tuple[str, str]]:
    """(before, after) URLs: the same schema, then the forward applied to `after` only."""
    names = [pg_server.create_database("psd"), pg_server.create_database("psd")]
    try:
        urls = [pg_server.url_for(n) for n in names]
        for url in urls:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(BEFORE.encode())
        with psycopg.connect(urls[1], autocommit=True) as conn:
            conn.execute(FORWARD.encode())
        yield urls[0], urls[1]
    finally:
        for name in names:
            pg_server.drop_database(name)


def plan(binary: Path, current: str, desired: str) -> subprocess.CompletedProcess[str]:
    args = [str(binary), "-current", f"{current}?sslmode=disable"]
    args += ["-desired", f"{desired}?sslmode=disable"]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def shape(url: str) -> list[tuple[str, ...]]:
    """Columns, constraints, indexes and functions of the public schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select 'column', column_name, data_type from information_schema.columns"
            " where table_schema = 'public' and table_name = 'items'"
            " union all select 'index', indexname, indexdef from pg_indexes"
            " where schemaname = 'public'"
            " union all select 'constraint', conname, pg_get_constraintdef(oid)"
            " from pg_constraint where connamespace = 'public'::regnamespace"
            " union all select 'function', proname, '' from pg_proc"
            " where pronamespace = 'public'::regnamespace order by 1, 2"
        ).fetchall()
    return [tuple(str(v) for v in row) for row in rows]


def test_the_plan_takes_after_back_to_before(binary: Path, databases: tuple[str, str]) -> None:
    before, after = databases
    assert shape(after) != shape(before)

    done = plan(binary, after, before)

    assert done.returncode == 0, done.stderr
    assert "-- hazard DELETES_DATA:" in done.stdout  # the dropped column's values go with it
    # One statement at a time, outside a transaction: its indexes are built CONCURRENTLY.
    with psycopg.connect(after, autocommit=True) as conn:
        for statement in filter(str.strip, done.stdout.split(";\n")):
            conn.execute(statement.encode())  # its hazard comments go along
    assert shape(after) == shape(before)


def test_no_change_gives_an_empty_plan(binary: Path, databases: tuple[str, str]) -> None:
    before, _ = databases

    done = plan(binary, before, before)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_a_failure_is_one_line_without_the_password(pg_server: Any, binary: Path) -> None:
    base, _, _ = pg_server.url_for("x").rpartition("/")
    wrong = base.replace("://", "://nobody:s3cret-pw@", 1) + "/no_such_database"

    done = plan(binary, wrong, wrong)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("psd-rollback: connect: ")
    assert "s3cret-pw" not in done.stderr
