"""Rows written into a table the migration makes IF NOT EXISTS, proven on a real PostgreSQL.

The static plan cannot call a `CREATE TABLE IF NOT EXISTS` table new (it may have been made in
the dashboard), so an `INSERT … SELECT` into it was a MANUAL item ("no literal primary key to
delete by") even once the shadow showed the table absent before and the rollback dropped it
(GerevSec/llmwiki `004_collaboration_and_kb_settings`): the rows go with the table. Rows
written into a table that was there before stay a human's step.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = (
    "create table public.bases42 (id int primary key, owner_id int);\n"
    "insert into public.bases42 values (1, 10), (2, 20);\n"
    "create table public.tags42 (id int primary key, label text);\n"
)

_NEW = (
    "create table if not exists public.members42 (base_id int references public.bases42(id),\n"
    "  user_id int, role text, primary key (base_id, user_id));\n"
)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "rows_into_a_new_table",
        _NEW + "insert into public.members42 (base_id, user_id, role)\n"
        "  select id, owner_id, 'owner' from public.bases42 on conflict do nothing;\n"
        "update public.members42 set role = 'admin' where user_id = 10;\n"
        "delete from public.members42 where user_id = 20;\n",
    ),
    (
        "rows_into_an_old_table",
        "insert into public.tags42 (id, label) select id, 'base' from public.bases42;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("rows_of_new_tables")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


def test_rows_go_with_a_table_made_if_not_exists_not_with_an_old_one(
    generated: dict[str, GeneratedRollback],
) -> None:
    g = generated["rows_into_a_new_table"]
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    body = g.sql_body or ""
    assert "MANUAL" not in body
    assert body.count("rows go with table public.members42") == 3
    assert "DROP TABLE IF EXISTS public.members42" in body

    # rows of a table that was there before stay a human's step
    old = generated["rows_into_an_old_table"].sql_body or ""
    assert "MANUAL: review data inserted into public.tags42" in old
