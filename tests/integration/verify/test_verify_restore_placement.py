"""Restores from captures against the schema at their place in the rollback (real PostgreSQL).

Each test is one cause the corpus showed, where the second pass of the round trip (the rollback
with `execute`'s restore steps) failed or left a difference that the restores themselves made.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, write_project

from migration_rollback.verify import generate_verified

pytestmark = pytest.mark.integration

SEEDED = """
create table public.people (
  id bigint generated always as identity primary key,
  name text not null,
  nick text default 'n',
  age int default 7,
  code text generated always as (upper(name)) stored
);
insert into public.people (name) values ('ann'), ('bob'), ('');
"""


def _verified(tmp_path: Path, shadow_url: str, forward: str) -> None:
    pairs = write_project(tmp_path, [("people", SEEDED, None), ("change", forward, None)])
    result = generate_verified(pairs, shadow_url)[1].result
    assert result.status == "verified", explain([result])
    assert result.manual == []


def test_backfilled_new_column_made_not_null(tmp_path: Path, shadow_url: str) -> None:
    """The rollback drops the column the migration added and filled: the UPDATE's prior values
    (NULL) and the deleted rows are not written into it while it is still NOT NULL."""
    forward = (
        "alter table public.people add column team int;\n"
        "update public.people set team = 1 where name <> '';\n"
        "delete from public.people where team is null;\n"
        "alter table public.people alter column team set not null;\n"
    )
    _verified(tmp_path, shadow_url, forward)


def test_dropped_generated_column(tmp_path: Path, shadow_url: str) -> None:
    """A generated column comes back computed: its captured values are not written into it."""
    _verified(tmp_path, shadow_url, "alter table public.people drop column code;\n")


def test_columns_dropped_in_one_statement_keep_their_defaults(
    tmp_path: Path, shadow_url: str
) -> None:
    """Several columns dropped by one ALTER: each refill runs after the rollback re-added its
    column (with its default), not before the other columns' steps."""
    _verified(
        tmp_path, shadow_url, "alter table public.people drop column nick, drop column age;\n"
    )


def test_prior_values_a_new_check_refuses(tmp_path: Path, shadow_url: str) -> None:
    """The migration adds a CHECK (NOT VALID) and then fixes the rows it refuses: their prior
    values are written back after the rollback dropped the CHECK, not before."""
    forward = (
        "alter table public.people add constraint named check (name <> '') not valid;\n"
        "update public.people set name = 'x' where name = '';\n"
    )
    _verified(tmp_path, shadow_url, forward)
