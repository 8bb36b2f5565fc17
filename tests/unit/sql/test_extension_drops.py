"""An extension's DROP takes its own tables with it (pg_cron's jobs, pgsodium's keys) without
CASCADE, so it counts as destroying data; and every extension the Supabase baseline creates is
one `CREATE EXTENSION IF NOT EXISTS` leaves alone (its undo keeps it)."""

from __future__ import annotations

import re

from migration_rollback.platform import supabase_sql
from migration_rollback.sql import generate_rollback, parse_script
from migration_rollback.sql.classify import classify
from migration_rollback.sql.rules.create import PLATFORM_EXTENSIONS


def test_dropping_an_extension_destroys_data() -> None:
    (st,) = parse_script("DROP EXTENSION IF EXISTS pg_cron;").statements
    found = classify(st)
    assert found.destroys_data
    assert any("own tables" in note for note in found.notes)


def test_every_baseline_extension_is_kept() -> None:
    made = re.findall(r'create extension if not exists "?([\w-]+)"?', supabase_sql(), re.I)
    assert "pgsodium" in made
    assert set(made) <= PLATFORM_EXTENSIONS
    for name in made:
        plan = generate_rollback(parse_script(f'create extension if not exists "{name}";'), "m")
        assert not plan.sql_steps, name
        assert not plan.manual_items, name
