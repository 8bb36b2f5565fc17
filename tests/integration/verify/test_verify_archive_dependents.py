"""The archive a rollback's DROP TABLE fills is bookkeeping, left out of the comparison.

A rollback's DROP TABLE is run as `execute` runs it (as_runner.py): the table is moved to the
archive schema. What the archive then holds stays there until the round trip's savepoint is
rolled back, and no snapshot reads the archive schema (snapshot/query.py `user_ns`): a rollback
that restores the schema verifies with its table archived. What depends on the table (a view,
a foreign key of a table that stays) does not follow it there: the archive step refuses as
DROP TABLE does, and the rollback is not verified, its dependent named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import verify_project

pytestmark = pytest.mark.integration

BASE = "create table public.keep (id int primary key, a_id int);\n"
TABLE_AND_VIEW = (
    "create table public.a (id int primary key, note text);\n"
    "insert into public.a values (1, 'kept');\n"
    "create view public.v as select id from public.a;\n"
)


def test_an_archived_table_verifies_and_the_archive_is_not_compared(
    tmp_path: Path, shadow_url: str
) -> None:
    migrations = [
        ("base", BASE, "drop table if exists public.keep;\n"),
        ("a", TABLE_AND_VIEW, "drop view if exists public.v;\ndrop table if exists public.a;\n"),
        ("b", "create table public.b (id int primary key);\n", "drop table public.b;\n"),
    ]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified"] * 3, explain(results)
    assert any("archive" in note for note in results[1].notes), results[1].notes


@pytest.mark.parametrize(
    ("forward", "dependent"),
    [
        (TABLE_AND_VIEW, "view v"),
        (
            "create table public.a (id int primary key);\n"
            "alter table public.keep add constraint keep_a_fk foreign key (a_id) "
            "references public.a (id);\n",
            "keep_a_fk",
        ),
    ],
    ids=["view", "foreign-key"],
)
def test_a_table_with_a_dependent_left_is_not_archived_past_it(
    tmp_path: Path, shadow_url: str, forward: str, dependent: str
) -> None:
    migrations = [
        ("base", BASE, "drop table if exists public.keep;\n"),
        ("a", forward, "drop table if exists public.a;\n"),  # its dependent is left
    ]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified", "rollback_failed"], explain(results)
    assert dependent in results[1].report(), explain(results)
