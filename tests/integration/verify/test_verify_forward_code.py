"""The code a forward ran, read once a round trip: the check after the forward does not read
it, the comparison after the rollback does (the transaction's calls, the forward's with the
rollback's), and with no comparison the read runs alone before COMMIT. Hidden code found
either way makes the kept model be read whole, so the next migration is checked against what
the forward really left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from test_verify_unseen_code import MIGRATIONS, UNSEEN_BASE
from verify_support import capturing_database, statuses, write_project

from migration_rollback.verify import capture, catalog, run_verification

pytestmark = pytest.mark.integration

# A trigger on s.w gives s.o away: an owner no statement of the forward names.
BASE = """
create schema s;
do $$ begin create role mr_fc_owner; exception when duplicate_object then null; end $$;
create table s.o (a int);
alter table s.o owner to mr_fc_owner;
create table s.w (a int);
create function s.give() returns trigger language plpgsql as $$
begin reassign owned by mr_fc_owner to postgres; return null; end $$;
create trigger give after insert on s.w for each row execute function s.give();
"""
HIDDEN = "insert into s.w values (1);\n"
NEXT = ("next", "alter table s.o add column b int;\n", "alter table s.o drop column b;\n")


@pytest.mark.parametrize("rollback", [None, "select 1;\n"], ids=["no_rollback", "rollback"])
def test_hidden_code_of_the_forward_keeps_the_model_true(
    tmp_path: Path, shadow_url: str, rollback: str | None
) -> None:
    """Without the model read again, the next migration's check found s.o's owner changed
    (the model still had the old one): a right rollback reported a mismatch."""
    pairs = write_project(
        tmp_path, [("base", BASE, "drop schema s cascade;\n"), ("hidden", HIDDEN, rollback), NEXT]
    )
    run = run_verification(pairs, shadow_url, jobs=1)
    assert statuses(run.results)[2] == "verified", run.results[2].report()
    assert run.drift == []


# Hidden code known only by the model of S(i-1): a function or a view the forward dropped.
_BY_KEPT_CODE = {name: (forward, rollback) for name, forward, rollback in MIGRATIONS}
_KEPT_CODE_CASES = ("dropped_after", "kept_catalog_view", "catalog_view", "rule_writes")


@pytest.mark.parametrize("with_rollback", [True, False], ids=["rollback", "no_rollback"])
@pytest.mark.parametrize("case", _KEPT_CODE_CASES)
def test_hidden_code_known_by_the_kept_model_reads_it_again(
    tmp_path: Path, shadow_url: str, case: str, with_rollback: bool
) -> None:
    """The owner the hidden statement changed is in the model the next migration is checked
    against (read against S(i)'s model, the dropped view's code was not known: no reload)."""
    forward, rollback = _BY_KEPT_CODE[case]
    follow = (
        f"alter table s.o_{case} add column zz int;\n",
        f"alter table s.o_{case} drop column zz;\n",
    )
    pairs = write_project(
        tmp_path,
        [
            ("base", UNSEEN_BASE, None),
            (case, forward, rollback if with_rollback else None),
            ("follow", *follow),
        ],
    )
    run = run_verification(pairs, shadow_url, jobs=1)
    assert statuses(run.results)[2] == "verified", run.results[2].report()
    assert run.drift == []


@pytest.fixture
def conn(pg_server: Any) -> Iterator[psycopg.Connection[Any]]:
    with capturing_database(pg_server, "forward_code", BASE) as c:
        yield c


def test_a_check_reads_the_code_that_ran_only_when_asked(conn: psycopg.Connection[Any]) -> None:
    conn.execute("BEGIN")
    try:
        capture.clear(conn)
        conn.execute(HIDDEN)
        nodes = [pglast.parse_sql(HIDDEN)[0].stmt]
        with catalog.reading(conn):
            unread = capture.queue_check(conn, nodes, read_ran=False).collect()
            read = capture.queue_check(conn, nodes).collect()
    finally:
        conn.execute("ROLLBACK")
    assert unread.ran_hidden is None
    assert unread.full_reason is None
    assert read.ran_hidden is not None
    assert any("give()" in r for r in read.ran_hidden)
    assert "give()" in str(read.full_reason)
