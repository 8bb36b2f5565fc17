"""Code that ran in a version since replaced: a trigger function the forward rewrites, fires
through an INSERT (no call in its text), and the rollback (or the forward itself) puts back.
The code that ran is read after the rollback; read only as the catalog holds it then, it was
the harmless version: a rollback that left the hidden change was verified, and the kept model
missed it, so the next migration's right rollback was a mismatch."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

# s.give() fires on an insert into s.w; harmless in the base.
BASE = """
create schema s;
do $$ begin create role mr_rc_owner; exception when duplicate_object then null; end $$;
create table s.o (a int);
alter table s.o owner to mr_rc_owner;
create table s.w (a int);
create function s.give() returns trigger language plpgsql as $$
begin return null; end $$;
create trigger give after insert on s.w for each row execute function s.give();
"""
_HARMLESS = """
create or replace function s.give() returns trigger language plpgsql as $$
begin return null; end $$;
"""
# s.o's owner changes: no statement names it, no event trigger reports it.
_GIVING = """
create or replace function s.give() returns trigger language plpgsql as $$
begin reassign owned by mr_rc_owner to postgres; return null; end $$;
insert into s.w values (1);
"""
NEXT = ("next", "alter table s.o add column b int;\n", "alter table s.o drop column b;\n")
CASES = {
    # forward, rollback, whether that rollback restores the schema (it never gives s.o back)
    "rollback_puts_it_back": (_GIVING, _HARMLESS),
    "forward_puts_it_back": (_GIVING + _HARMLESS, "select 1;\n"),
    "no_rollback": (_GIVING + _HARMLESS, None),
}


@pytest.mark.parametrize("case", CASES)
def test_code_replaced_after_it_ran_is_read_as_it_ran(
    tmp_path: Path, shadow_url: str, case: str
) -> None:
    forward, rollback = CASES[case]
    pairs = write_project(
        tmp_path, [("base", BASE, "drop schema s cascade;\n"), ("hidden", forward, rollback), NEXT]
    )
    run = run_verification(pairs, shadow_url, jobs=1)
    if rollback is not None:
        hidden = run.results[1]
        assert hidden.status == "mismatch", hidden.report()
        assert "owner" in hidden.report()
    assert statuses(run.results)[2] == "verified", run.results[2].report()
    assert run.drift == []
