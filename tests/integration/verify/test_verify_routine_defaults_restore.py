"""validate --verify puts back a routine whose parameter defaults the migration added (drop and
create again: CREATE OR REPLACE cannot remove them), and reports, as the rollback's failure,
the one a view depends on (the restore is refused; no CASCADE), instead of failing or crashing
(real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

# Made by a DO block: the generator cannot know the routine's prior definition.
GREET = """
create table public.items (id bigint primary key);
do $$ begin execute 'create function public.greet(who text) returns text language sql '
  'as $b$ select ''hi '' || who $b$'; end $$;
"""
WITH_VIEW = GREET + "create view public.greeting as select public.greet('x') as g;\n"
GREET_ROLLBACK = (
    "drop view if exists public.greeting;\n"
    "drop function if exists public.greet(text);\n"
    "drop table public.items;\n"
)
REGREET = """
create or replace function public.greet(who text default 'you') returns text language sql
  as $$ select 'hello ' || who $$;
"""
REGREET_ROLLBACK = """
-- undoes supabase/migrations/20250101000002_regreet.sql:2: create or replace function
-- MANUAL: restore the previous definition of public.greet(text)
"""


def test_routine_given_defaults_is_put_back(tmp_path: Path, shadow_url: str) -> None:
    """The old restore re-ran CREATE OR REPLACE: 'cannot remove parameter defaults'."""
    pairs = write_project(
        tmp_path, [("greet", GREET, GREET_ROLLBACK), ("regreet", REGREET, REGREET_ROLLBACK)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)


def test_routine_a_view_depends_on_is_the_rollbacks_failure(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path, [("greet", WITH_VIEW, GREET_ROLLBACK), ("regreet", REGREET, REGREET_ROLLBACK)]
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results)[0] == "verified", explain(run.results)
    assert statuses(run.results)[1] != "verified"
    # The first pass's mismatch is the verdict; the refused restore its note (roundtrip.py).
    said = explain(run.results) + " ".join(run.results[1].notes)
    assert "view public.greeting depend" in said, said
