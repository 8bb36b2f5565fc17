"""The round trip runs `apply`'s IF NOT EXISTS capture and `execute`'s answer to it (real
PostgreSQL): a rollback whose only MANUAL item is an index created IF NOT EXISTS is verified,
whether the index existed before the migration (kept) or not (dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

ITEMS = "create table public.items (id bigint primary key, name text);\n"
WITH_INDEX = ITEMS + "create index by_name on public.items (lower(name));\n"
ITEMS_ROLLBACK = "drop table public.items;\n"
INDEX = "create index if not exists by_name on public.items (name);\n"
INDEX_ROLLBACK = """
-- undoes supabase/migrations/20250101000002_index.sql:1: create index if not exists by_name
-- MANUAL: IF NOT EXISTS: index public.by_name may have existed before this migration: keep \
it if so; if it did not exist, run: DROP INDEX public.by_name
"""


@pytest.mark.parametrize("base", [ITEMS, WITH_INDEX], ids=["absent", "existed"])
def test_if_not_exists_marker_is_answered_by_the_capture(
    tmp_path: Path, shadow_url: str, base: str
) -> None:
    pairs = write_project(
        tmp_path, [("items", base, ITEMS_ROLLBACK), ("index", INDEX, INDEX_ROLLBACK)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)
    assert run.drift == []
