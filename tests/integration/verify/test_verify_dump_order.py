"""The generator's own rollback of a dump-shaped migration, run on a real PostgreSQL as written.

A dump restates the platform's own grants (USAGE on schema public, default privileges for the
Data API's roles): the rollback leaves them, where it had revoked them (the app's every request
failing); grants on a table an earlier migration made in public, which the platform's default
privileges had given, stay too.

pg_dump, `supabase db dump` and ORMs write every foreign key as an ALTER TABLE after the tables,
and pg_dump writes a function again after the policies and triggers that use it. The rollback
drops the constraints first and then the tables in any order (which `validate` had called an
ORDER error), and drops the function once, after what uses it (it had dropped it first, undoing
the second CREATE OR REPLACE: "cannot drop function ... because other objects depend on it").
(The tables are plain CREATEs as pg_dump writes them: `supabase db dump`'s IF NOT EXISTS makes
each DROP a MANUAL item, since the table may have been there before: test_kind_paths.py.)
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
CREATE TABLE public.child (id uuid NOT NULL, parent_id uuid, owner_id uuid);
CREATE TABLE public.parent (id uuid NOT NULL);
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


EARLIER = "create table public.todos (id bigint primary key, task text);\n"
RESTATES = """
GRANT USAGE ON SCHEMA "public" TO "postgres";
GRANT USAGE ON SCHEMA "public" TO "anon";
GRANT USAGE ON SCHEMA "public" TO "authenticated";
GRANT USAGE ON SCHEMA "public" TO "service_role";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES TO "anon";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON FUNCTIONS TO "anon";
ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public"
  GRANT ALL ON SEQUENCES TO "authenticated";
GRANT SELECT, INSERT ON TABLE public.todos TO anon, authenticated;
CREATE SCHEMA private;
GRANT USAGE ON SCHEMA public, private TO anon;
"""


def test_platform_grants_restated_by_a_dump_stay(tmp_path: Path, shadow_url: str) -> None:
    history = History()
    for st in parse_script(EARLIER, "earlier.sql").statements:
        history.observe(st)
    rollback = generate_rollback(parse_script(RESTATES, "dump.sql"), "dump", history).render_body()
    run_lines = [line.lower() for line in rollback.splitlines() if not line.startswith("--")]
    assert "revoke usage on schema private from anon;" in run_lines
    assert not [line for line in run_lines if "schema public" in line or "todos" in line]
    pairs = write_project(tmp_path, [("earlier", EARLIER, "drop table public.todos;"),
                                     ("restates", RESTATES, rollback)])  # fmt: skip
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results) + rollback
