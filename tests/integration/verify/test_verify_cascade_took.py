"""A `DROP … IF EXISTS` of what an earlier `DROP … CASCADE` of the same migration already took,
proven on a real PostgreSQL.

`DROP TABLE t CASCADE` takes the policies, foreign keys and views of other tables that use `t`;
the migration then drops them again IF EXISTS (nothing) and makes them anew over its new `t`.
The undo of that IF EXISTS drop used to recreate the before-state's object while the rollback
still held the new `t`, so the rollback's own DROP of `t` failed on it (Mirxa27/newomen
`20251007000000_comprehensive_fixes`: a policy of `newme_messages` over `newme_conversations`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = (
    "create table public.conv41 (id uuid primary key, owner uuid);\n"
    "create table public.msg41 (id uuid primary key, conv uuid);\n"
    "alter table public.msg41 enable row level security;\n"
    'create policy "own msg41" on public.msg41 for all using (exists (select 1\n'
    "  from public.conv41 c where c.id = msg41.conv and c.owner = auth.uid()));\n"
    "create table public.fk41 (id uuid primary key);\n"
    "create table public.ref41 (id uuid primary key,\n"
    "  fk uuid constraint ref41_fk_fkey references public.fk41(id));\n"
    "create table public.counted41 (id int);\n"
    "create view public.count41 as select count(*) as n from public.counted41;\n"
)

MIGRATIONS: list[tuple[str, str]] = [
    (
        # the real project's shape: a policy of another table, over the table made anew
        "policy_of_another_table",
        "drop table if exists public.conv41 cascade;\n"
        "create table if not exists conv41 (id uuid primary key, owner uuid, at timestamptz);\n"
        'drop policy if exists "own msg41" on msg41;\n'
        'create policy "own msg41" on msg41 for all using (exists (select 1\n'
        "  from conv41 c where c.id = msg41.conv and c.owner = auth.uid()));\n",
    ),
    (
        "foreign_key_of_another_table",
        "drop table public.fk41 cascade;\n"
        "create table public.fk41 (id uuid primary key, label text);\n"
        "alter table public.ref41 drop constraint if exists ref41_fk_fkey;\n"
        "alter table public.ref41 add constraint ref41_fk_fkey\n"
        "  foreign key (fk) references public.fk41(id) on delete cascade;\n",
    ),
    (
        "view_over_the_table",
        "drop table public.counted41 cascade;\n"
        "create table public.counted41 (id int, extra int);\n"
        "drop view if exists public.count41;\n"
        "create view public.count41 as select count(*) as n from public.counted41;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("cascade_took")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    g = generated[case]
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    # the IF EXISTS drop is undone by nothing: the CASCADE's undo and the repair put it back
    assert "went with the DROP ... CASCADE of line 1" in (g.sql_body or "")
