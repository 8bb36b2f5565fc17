"""Views, materialized views and a DO block's drops, followed by the history, against a real
PostgreSQL: the rollbacks the engine writes restore the catalog (or say what a human must).

On real projects: a view's WHERE changed by CREATE OR REPLACE was undone by DROP and CREATE,
which fails when another view reads it and loses its comment otherwise; a materialized view
dropped came back without its unique index; a policy a DO block had dropped was made again
by the undo of a later `DROP POLICY IF EXISTS` (it had not stood before that migration): now
a MANUAL item, answered by what apply captured before the migration. And a block that drops
policies an earlier block made (`IF NOT EXISTS … THEN EXECUTE 'CREATE POLICY …'`) is undone by
making them again from that text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import build_history, parse_script
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration


def _verify(tmp_path: Path, shadow_url: str, earlier: str, forward: str) -> tuple[str, str, str]:
    """The last migration's verdict, the report, and the rollback the engine wrote for it."""
    history = build_history([parse_script(earlier, "earlier.sql")])
    rollback = generate_rollback(parse_script(forward, "f.sql"), "f", history).render_body()
    pairs = write_project(tmp_path, [("earlier", earlier, None), ("forward", forward, rollback)])
    run = run_verification(pairs, shadow_url)
    return statuses(run.results)[-1], explain(run.results) + "\n" + rollback, rollback


VIEWS_EARLIER = """
create table public.t (id int, b int);
create view public.v as select id from public.t;
comment on view public.v is 'the ids';
create view public.w as select id, b from public.t where id > 0;
create view public.reads_w as select id from public.w;
"""
VIEWS_FORWARD = """
create or replace view public.v as select id, b from public.t;
create or replace view public.w as select id, b from public.t where id > 1;
"""


def test_replaced_views_come_back_in_place_or_recreated_with_their_comment(
    tmp_path: Path, shadow_url: str
) -> None:
    status, report, _ = _verify(tmp_path, shadow_url, VIEWS_EARLIER, VIEWS_FORWARD)
    assert status == "verified", report


MATVIEW_EARLIER = """
create table public.t (id int, n int);
create materialized view public.mv as select id, count(*) as c from public.t group by id;
create unique index mv_id on public.mv (id);
"""
MATVIEW_FORWARD = """
refresh materialized view concurrently public.mv;
drop materialized view public.mv;
"""


def test_a_dropped_materialized_view_comes_back_with_its_index(
    tmp_path: Path, shadow_url: str
) -> None:
    status, report, _ = _verify(tmp_path, shadow_url, MATVIEW_EARLIER, MATVIEW_FORWARD)
    assert status == "verified", report


BLOCK_EARLIER = """
create table public.t (id int);
create policy p on public.t for select using (true);
do $$ begin
  if true then execute 'drop policy if exists p on public.t'; end if;
end $$;
"""
BLOCK_FORWARD = "drop policy if exists p on public.t;"


def test_a_policy_a_do_block_dropped_is_not_made_again(tmp_path: Path, shadow_url: str) -> None:
    status, report, rollback = _verify(tmp_path, shadow_url, BLOCK_EARLIER, BLOCK_FORWARD)
    # Not made again from the stale text: a MANUAL item, which apply's capture answers (the
    # policy was not there before the migration: nothing to put back).
    assert "create policy" not in rollback.lower()
    assert "MANUAL: policy public.p on t was dropped" in rollback
    assert status == "verified", report


REPLACED_EARLIER = """
create table public.orders (id int, user_id uuid);
alter table public.orders enable row level security;
do $$ begin
  if not exists (select 1 from pg_policies where policyname = 'orders select own') then
    execute 'create policy "orders select own" on public.orders for select using (id > 1)';
  end if;
end $$;
"""
REPLACED_FORWARD = """
do $$ begin
  execute 'drop policy if exists "orders select own" on public.orders';
exception when others then null;
end $$;
create policy "orders select own" on public.orders for select using (id > 0);
"""


def test_a_block_that_drops_a_policy_a_block_made_is_undone(
    tmp_path: Path, shadow_url: str
) -> None:
    status, report, rollback = _verify(tmp_path, shadow_url, REPLACED_EARLIER, REPLACED_FORWARD)
    assert "MANUAL" not in rollback
    assert status == "verified", report
