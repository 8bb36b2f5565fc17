"""Extensions enabled from the dashboard, never in a migration: the replay enables each one a
forward relies on (the server's, else its stand-in) and replays it again, so the rollback is
still checked. Real PostgreSQL, synthetic migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.cli.app import made_names
from migration_rollback.project.workspace import load
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

PROJECT: list[tuple[str, str, str | None]] = [
    (
        "docs",  # pgvector: its type and index method
        "create table public.docs (id bigint primary key, body text, embedding vector(3),\n"
        "  updated_at timestamptz);\n"
        "create index docs_embedding_idx on public.docs\n"
        "  using hnsw (embedding vector_cosine_ops);\n",
        "drop table public.docs;\n",
    ),
    (
        "touch",  # moddatetime's trigger function
        "create trigger docs_touch before update on public.docs\n"
        "  for each row execute procedure moddatetime (updated_at);\n",
        "drop trigger docs_touch on public.docs;\n",
    ),
    (
        "search",  # two in one migration: pg_trgm, then citext
        "create index docs_body_trgm on public.docs using gin (body gin_trgm_ops);\n"
        "alter table public.docs add column email citext;\n",
        "alter table public.docs drop column email;\ndrop index public.docs_body_trgm;\n",
    ),
    (
        "own_type",  # a type of the project's that no migration makes: no extension's
        "alter table public.docs add column mood public.mood;\n",
        None,
    ),
]


def test_each_extension_a_forward_relies_on_is_enabled(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(tmp_path, PROJECT)
    project = made_names(load(tmp_path / "supabase" / "migrations"))
    results = run_verification(pairs, shadow_url, project=project).results
    assert statuses(results) == ["verified"] * 3 + ["forward_failed"], explain(results)
    enabled = [
        [note.split()[3].rstrip(":") for note in r.notes if "the way the dashboard" in note]
        for r in results
    ]
    assert enabled == [["vector"], ["moddatetime"], ["pg_trgm", "citext"], []], enabled
    assert set(results[0].standins) <= {"vector"}  # the server's own pgvector, or the stand-in
    assert results[1].standins == results[2].standins == []  # contrib: the server's own
