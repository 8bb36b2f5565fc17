"""A foreign key a DO block adds to a table the migration made, proven on a real PostgreSQL.

Objects on a new table were taken to go with it, so a DO block that added one was undone by
nothing. A foreign key refers to another table's key, which the undo of an earlier DO block may
drop before the new table goes: the rollback then failed with "other objects depend on it"
(moonklabs/sprintable `20260406184500_agent_runtime_phase3`: a unique scope key on `agent_runs`
and the foreign keys of three new tables over it, each added IF NOT EXISTS in its own DO block).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = "create table public.runs41 (id uuid primary key, org uuid);\n"

_UNIQUE = (
    "do $$ begin\n"
    "  if not exists (select 1 from pg_constraint where conname = 'uq_runs41_scope') then\n"
    "    alter table public.runs41 add constraint uq_runs41_scope unique (id, org);\n"
    "  end if;\n"
    "end $$;\n"
)
_FOREIGN = (
    "do $$ begin\n"
    "  if not exists (select 1 from pg_constraint where conname = 'fk_{t}_scope') then\n"
    "    alter table public.{t} add constraint fk_{t}_scope foreign key (run_id, org)\n"
    "      references public.runs41(id, org) deferrable initially deferred not valid;\n"
    "  end if;\n"
    "end $$;\n"
)

MIGRATIONS: list[tuple[str, str]] = [
    (
        "foreign_keys_over_a_block_made_key",
        "create table if not exists public.memories41 (id uuid primary key, run_id uuid,\n"
        "  org uuid);\n"
        "create table if not exists public.audits41 (id uuid primary key, run_id uuid, org uuid);\n"
        + _UNIQUE
        + _FOREIGN.format(t="memories41")
        + _FOREIGN.format(t="audits41"),
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("do_block_foreign_keys")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


def test_foreign_keys_are_dropped_before_the_key_they_use(
    generated: dict[str, GeneratedRollback],
) -> None:
    g = generated["foreign_keys_over_a_block_made_key"]
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    body = g.sql_body or ""
    key = body.index("DROP CONSTRAINT IF EXISTS uq_runs41_scope")
    for table in ("memories41", "audits41"):
        assert body.index(f"DROP CONSTRAINT IF EXISTS fk_{table}_scope") < key
