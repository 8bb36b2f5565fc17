"""The generator's own rollback of a dump-shaped migration, run on a real PostgreSQL as written.

pg_dump, `supabase db dump` and ORMs write every foreign key as an ALTER TABLE after the tables,
and pg_dump writes a function again after the policies and triggers that use it. The rollback
drops the constraints first and then the tables in any order (which `validate` had called an
ORDER error), and drops the function once, after what uses it (it had dropped it first, undoing
the second CREATE OR REPLACE: "cannot drop function ... because other objects depend on it").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import order_findings
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.sql.history import History
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

DUMP = """
CREATE OR REPLACE FUNCTION public.readable_ids() RETURNS uuid[] LANGUAGE sql STABLE
  AS $f$ SELECT ARRAY[]::uuid[] $f$;
CREATE TABLE IF NOT EXISTS public.child (id uuid NOT NULL, parent_id uuid, owner_id uuid);
CREATE TABLE IF NOT EXISTS public.parent (id uuid NOT NULL);
ALTER TABLE ONLY public.child ADD CONSTRAINT child_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.child
  ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id) REFERENCES public.parent(id);
ALTER TABLE public.child ADD FOREIGN KEY (owner_id) REFERENCES public.parent(id);
ALTER TABLE public.child ENABLE ROW LEVEL SECURITY;
CREATE POLICY "child read" ON public.child FOR SELECT USING (id = ANY (public.readable_ids()));
CREATE OR REPLACE FUNCTION public.readable_ids() RETURNS uuid[] LANGUAGE sql STABLE
  AS $f$ SELECT ARRAY(SELECT id FROM public.parent) $f$;
"""


def test_the_generated_rollback_of_a_dump_runs_and_restores(
    tmp_path: Path, shadow_url: str
) -> None:
    forward = parse_script(DUMP, "dump.sql")
    rollback = generate_rollback(forward, "dump", History()).render_body()
    assert order_findings(forward, parse_script(rollback, "r.sql"), "r.sql") == []
    pairs = write_project(tmp_path, [("dump", DUMP, rollback)])
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified"], explain(run.results) + "\n" + rollback
