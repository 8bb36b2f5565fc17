"""The round trip runs `apply`'s definition captures and `execute`'s restores (real PostgreSQL):
a hand-written rollback whose MANUAL item is a dropped trigger is verified when the capture
answers it, whether the trigger existed before the migration or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

ITEMS = """
create table public.items (id bigint primary key, name text, touched text);
create function public.stamp() returns trigger language plpgsql as
$$ begin new.touched := 'stamped'; return new; end $$;
"""
WITH_TRIGGER = ITEMS + (
    "create trigger keep_me before update on public.items\n"
    "  for each row execute function public.stamp();\n"
)
ITEMS_ROLLBACK = "drop table public.items;\ndrop function public.stamp();\n"
RETRIGGER = """
drop trigger if exists keep_me on public.items;
create trigger keep_me before insert on public.items for each row execute function public.stamp();
"""
RETRIGGER_ROLLBACK = """
-- undoes supabase/migrations/20250101000002_retrigger.sql:3: create trigger keep_me
DROP TRIGGER IF EXISTS keep_me ON public.items;
-- undoes supabase/migrations/20250101000002_retrigger.sql:2: drop trigger if exists keep_me
-- MANUAL: trigger keep_me on public.items was dropped; recreate it
"""


@pytest.mark.parametrize("base", [ITEMS, WITH_TRIGGER], ids=["absent", "existed"])
def test_dropped_trigger_marker_is_answered_by_the_capture(
    tmp_path: Path, shadow_url: str, base: str
) -> None:
    pairs = write_project(
        tmp_path,
        [("items", base, ITEMS_ROLLBACK), ("retrigger", RETRIGGER, RETRIGGER_ROLLBACK)],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)
    (restored,) = run.results[1].restored
    assert restored.startswith("20250101000002_retrigger_rollback.sql:5: trigger keep_me")
    assert run.drift == []  # the capture schema left nothing in the shadow's model


EXTRA_AND_RETRIGGER = "create table public.extra (id int);" + RETRIGGER
WRONG_AND_CLASHING = """
-- undoes supabase/migrations/20250101000002_retrigger.sql:3: create trigger keep_me
DROP TRIGGER IF EXISTS keep_me ON public.items;
-- undoes supabase/migrations/20250101000002_retrigger.sql:2: drop trigger if exists keep_me
-- MANUAL: trigger keep_me on public.items was dropped; recreate it
-- undoes supabase/migrations/20250101000002_retrigger.sql:1: create table public.extra
DROP FUNCTION public.stamp();
"""


def test_a_failing_second_pass_keeps_the_first_passs_mismatch(
    tmp_path: Path, shadow_url: str
) -> None:
    """A wrong step drops the trigger's function (a mismatch without the captures: the
    function is missing, the table left behind); with the capture's trigger put back before
    it, the DROP fails (the trigger needs the function). The verdict is the schema's
    mismatch, the failure its detail (hivecom's consolidate_permissions_step2 read
    rollback_failed, which hid what differed)."""
    pairs = write_project(
        tmp_path,
        [
            ("items", WITH_TRIGGER, ITEMS_ROLLBACK),
            ("retrigger", EXTRA_AND_RETRIGGER, WRONG_AND_CLASHING),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "mismatch"], explain(run.results)
    result = run.results[1]
    assert result.differences, explain(run.results)
    assert any("with the restores from apply's captures" in n for n in result.notes), explain(
        run.results
    )
