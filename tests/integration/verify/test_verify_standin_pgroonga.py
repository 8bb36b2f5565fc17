"""The pgroonga stand-in, proven on a real PostgreSQL: Supabase ships PGroonga, plain PostgreSQL
does not, so a project's full-text indexes failed the whole first migration on the shadow
(GerevSec/llmwiki `001_initial`: `extension "pgroonga" is not available`). The stand-in gives
the v2 operators and everyday functions; an index USING pgroonga is built as a btree on the
shadow only, as for vector's hnsw."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration


def test_pgroonga_indexes_operators_and_functions_replay(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "search",
                "create extension if not exists pgroonga;\n"
                "create table public.chunks42 (id int primary key, content text, tags text[]);\n"
                "create index chunks42_content on public.chunks42 using pgroonga (content);\n"
                "create index chunks42_tags on public.chunks42\n"
                "  using pgroonga (tags pgroonga_text_array_full_text_search_ops_v2);\n"
                "create function public.search42(q text) returns setof public.chunks42\n"
                "  language sql stable as $$ select * from public.chunks42\n"
                "  where content &@~ q or tags &@ q or content &@| array[q]\n"
                "  order by pgroonga_score(tableoid, ctid) desc $$;\n",
                "drop function public.search42(text);\ndrop table public.chunks42;\n"
                "drop extension if exists pgroonga;\n",
            ),
        ],
    )
    results = run_verification(pairs, shadow_url).results
    assert statuses(results) == ["verified"], explain(results)
    assert results[0].standins == ["pgroonga"]
