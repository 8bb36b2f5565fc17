"""A name a DO block renames away and then gives a new object, proven on a real PostgreSQL.

The diff goes by name: after `RENAME COLUMN duration_ms TO duration_ms_legacy` and a new
generated `duration_ms`, the column `duration_ms` looked changed (now generated) and
`duration_ms_legacy` new, so the rollback dropped the legacy column (its values lost) and could
not turn the generated column back: rollback_failed (moonklabs/sprintable
`20260405093000_agent_runtime_phase2`). The old catalog row under its new name is a rename:
the new object is dropped, then the old one renamed back. Columns, tables and types alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = (
    "create table public.runs42 (id int primary key, duration_ms integer,\n"
    "  started_at timestamptz, finished_at timestamptz);\n"
    "create type public.state42 as enum ('new', 'done');\n"
    "create table public.jobs42 (id int primary key, state public.state42);\n"
    "create table public.notes42 (id int primary key, body text);\n"
)

_RENAME = (
    "do $$ begin\n"
    "  if exists (select 1 from information_schema.columns where table_name = 'runs42'\n"
    "      and column_name = 'duration_ms' and is_generated = 'NEVER') then\n"
    "    alter table public.runs42 rename column duration_ms to duration_ms_legacy;\n"
    "  end if;\n"
    "end $$;\n"
)
_GENERATED = (
    "do $$ begin\n"
    "  if not exists (select 1 from information_schema.columns where table_name = 'runs42'\n"
    "      and column_name = 'duration_ms') then\n"
    "    alter table public.runs42 add column duration_ms integer generated always as (\n"
    "      case when finished_at is not null then 1 else duration_ms_legacy end) stored;\n"
    "  end if;\n"
    "end $$;\n"
)

MIGRATIONS: list[tuple[str, str]] = [
    ("column_renamed_then_generated", _RENAME + _GENERATED),
    (
        "column_renamed_and_added_in_one_block",
        "do $$ begin\n"
        "  alter table public.runs42 rename column duration_ms to duration_ms_old;\n"
        "  alter table public.runs42 add column duration_ms integer;\n"
        "end $$;\n",
    ),
    (
        "type_renamed_and_made_again",
        "do $$ begin\n"
        "  alter type public.state42 rename to state42_old;\n"
        "  create type public.state42 as enum ('new', 'running', 'done');\n"
        "end $$;\n",
    ),
    (
        "table_renamed_and_made_again",
        "do $$ begin\n"
        "  alter table public.notes42 rename to notes42_archive;\n"
        "  create table public.notes42 (id int primary key, body text, author text);\n"
        "end $$;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("do_block_replaced_names")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


def _verified(g: GeneratedRollback) -> str:
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    return g.sql_body or ""


def test_a_generated_column_under_a_renamed_name_is_dropped_then_renamed_back(
    generated: dict[str, GeneratedRollback],
) -> None:
    body = _verified(generated["column_renamed_then_generated"])
    drop = body.index("DROP COLUMN IF EXISTS duration_ms;")
    assert drop < body.index("RENAME COLUMN duration_ms_legacy TO duration_ms")
    assert "DROP COLUMN IF EXISTS duration_ms_legacy" not in body  # its values are kept


def test_one_block_renaming_and_adding_keeps_the_old_values(
    generated: dict[str, GeneratedRollback],
) -> None:
    body = _verified(generated["column_renamed_and_added_in_one_block"])
    assert "RENAME COLUMN duration_ms_old TO duration_ms" in body
    assert "DROP COLUMN IF EXISTS duration_ms_old" not in body


def test_a_type_made_again_under_its_old_name_is_dropped_then_renamed_back(
    generated: dict[str, GeneratedRollback],
) -> None:
    body = _verified(generated["type_renamed_and_made_again"])
    assert "RENAME TO state42" in body


def test_a_table_made_again_under_its_old_name_is_dropped_then_renamed_back(
    generated: dict[str, GeneratedRollback],
) -> None:
    body = _verified(generated["table_renamed_and_made_again"])
    assert "RENAME TO notes42" in body
