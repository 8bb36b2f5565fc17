"""Column order on a real PostgreSQL: a dropped column comes back last, the verdict says so
(text and JSON), and with exact column order the rollback rebuilds the table (ACCESS EXCLUSIVE
lock, rows copied) so that `SELECT *` sees the columns in their order again; a table that other
objects use is not rebuilt (the order stays a stated difference).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from verify_support import write_project

from migration_rollback.verify import GeneratedRollback, generate_verified, verify_project

pytestmark = pytest.mark.integration

BASE = """
create table public.cust (
  id serial primary key,
  email text not null default '' check (email <> 'x'),
  note text,
  age int constraint cust_age_check check (age > 0),
  slug text generated always as (lower(note)) stored
);
create index cust_email_idx on public.cust (email);
alter table public.cust enable row level security;
create policy cust_adults on public.cust for select using (age > 17);
comment on column public.cust.note is 'free text';
grant select on public.cust to public;
create table public.acct (id int primary key, a text, b text);
create view public.acct_b as select id, b from public.acct;
"""

MIGRATIONS = [
    ("drop_a_middle_column", "alter table public.cust drop column email;\n"),
    ("drop_a_column_a_view_skips", "alter table public.acct drop column a;\n"),
]


def _generate(root: Path, url: str, exact: bool) -> dict[str, GeneratedRollback]:
    pairs = write_project(root, [("base", BASE, None), *((n, s, None) for n, s in MIGRATIONS)])
    out = generate_verified(pairs, url, strict_column_order=exact)
    return {g.migration.split("_", 1)[1]: g for g in out}


@pytest.fixture(scope="module")
def tolerant(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    url = str(pg_server.admin_url)  # type: ignore[attr-defined]
    return _generate(tmp_path_factory.mktemp("order_tolerated"), url, exact=False)


@pytest.fixture(scope="module")
def exact(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    url = str(pg_server.admin_url)  # type: ignore[attr-defined]
    return _generate(tmp_path_factory.mktemp("order_exact"), url, exact=True)


def test_the_summary_line_says_the_column_order_differs(
    tolerant: dict[str, GeneratedRollback],
) -> None:
    result = tolerant["drop_a_middle_column"].result
    assert result.status == "verified", result.report()
    assert result.verdict == "verified, column order differs"
    first = result.report().splitlines()[0]
    assert "column order differs in public.cust" in first
    assert "SELECT *" in first
    assert "COPY" in first
    document = result.to_json()
    assert document["column_order_differs"] is True
    assert document["verdict"] == "verified, column order differs"


def test_exact_column_order_rebuilds_the_table(exact: dict[str, GeneratedRollback]) -> None:
    g = exact["drop_a_middle_column"]
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    assert not g.result.tolerated
    body = g.sql_body or ""
    assert "LOCK TABLE public.cust IN ACCESS EXCLUSIVE MODE" in body
    assert "ACCESS EXCLUSIVE lock while its rows are copied" in body
    assert "CREATE TABLE public.cust__mr_reorder" in body


def test_a_table_other_objects_use_is_not_rebuilt(exact: dict[str, GeneratedRollback]) -> None:
    result = exact["drop_a_column_a_view_skips"].result
    assert result.status == "mismatch"
    assert not result.schema_restored
    assert {d.attribute for d in result.differences} == {"position"}
    assert any("view public.acct_b" in note for note in result.notes), result.notes


def test_the_rebuilt_table_keeps_its_rows_and_order(
    exact: dict[str, GeneratedRollback], database_url: str
) -> None:
    body = exact["drop_a_middle_column"].sql_body or ""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(BASE.split("create table public.acct")[0])
        conn.execute(
            "insert into public.cust (email, note, age) values ('a', 'Hi', 20), ('b', 'Yo', 30)"
        )
        conn.execute(MIGRATIONS[0][1])
        conn.execute(body)
        cur = conn.execute("select * from public.cust order by id")
        assert [c.name for c in cur.description or ()] == ["id", "email", "note", "age", "slug"]
        assert cur.fetchall() == [(1, "", "Hi", 20, "hi"), (2, "", "Yo", 30, "yo")]
        # the serial's sequence went with the new table, where it left off
        new_id = conn.execute("insert into public.cust (note) values ('z') returning id")
        assert new_id.fetchone() == (3,)


def test_validate_with_exact_column_order_counts_the_order(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("base", "create table public.t (a int, b int, c int);\n", "drop table public.t;\n"),
            (
                "drop_b",
                "alter table public.t drop column b;\n",
                "alter table public.t add column b int;\n",
            ),
        ],
    )
    loose = verify_project(pairs, shadow_url)
    assert loose[1].verdict == "verified, column order differs"
    assert loose[1].schema_restored
    strict = verify_project(pairs, shadow_url, strict_column_order=True)
    assert strict[1].status == "mismatch"


def test_the_cli_rebuilds_and_the_report_states_the_lock(
    tmp_path: Path, shadow_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from migration_rollback.cli import app

    directory = tmp_path / "supabase" / "migrations"
    write_project(
        tmp_path,
        [
            ("base", "create table public.t (id serial primary key, a text, b text);\n", None),
            ("drop_a", "alter table public.t drop column a;\n", None),
        ],
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    loose = runner.invoke(app, ["generate", "--verify", "--shadow-url", shadow_url])
    assert loose.exit_code == 0, loose.output
    assert "verified, column order differs" not in loose.output  # status, name, then the note
    assert "column order differs" in loose.output
    exact = ["generate", "--verify", "--force", "--exact-column-order", "--shadow-url", shadow_url]
    result = runner.invoke(app, exact)
    assert result.exit_code == 0, result.output
    assert "column order differs" not in result.output
    doc = next(directory.glob("*_drop_a_rollback.md")).read_text()
    assert "Rebuilds table public.t so that its columns come back in their order" in doc
    assert "ACCESS EXCLUSIVE lock while every row is copied" in doc
    check = ["validate", "--verify", "--exact-column-order", "--shadow-url", shadow_url]
    checked = runner.invoke(app, check)
    assert checked.exit_code == 0, checked.output
