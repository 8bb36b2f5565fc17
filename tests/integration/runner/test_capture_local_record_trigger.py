"""A stamp trigger that works on a local copy of NEW (Hasura's `set_current_timestamp_updated_at`,
common in projects that moved to Supabase; the corpus's Zeta611 easyword has it): it changes
only the row it returns, so the capture keeps whole rows and `execute` puts them back exactly,
`updated_at` included (real PostgreSQL)."""

from __future__ import annotations

import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

pytestmark = pytest.mark.integration

BASE = """
CREATE TABLE public.translation (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  rank integer,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION public.set_current_timestamp_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  _new record;
BEGIN
  _new := NEW;
  _new."updated_at" = NOW();
  RETURN _new;
END $$;
CREATE TRIGGER set_public_translation_updated_at BEFORE UPDATE ON public.translation
  FOR EACH ROW EXECUTE FUNCTION public.set_current_timestamp_updated_at();
"""
SEED = """
INSERT INTO public.translation (id, name, rank, updated_at) VALUES
  (1, 'un', NULL, '2024-01-02'), (2, 'deux', 3, '2024-02-02'), (3, 'trois', NULL, '2024-03-02');
"""


def test_a_local_record_stamp_trigger_is_silenced_and_the_rows_come_back(project: Project) -> None:
    write(project, "20250101000000_base", BASE)
    assert apply(project)[0] == 0
    project.sql("ALTER TABLE public.translation DISABLE TRIGGER USER")
    project.sql(SEED)  # the seed keeps its own timestamps
    project.sql("ALTER TABLE public.translation ENABLE TRIGGER USER")
    write(
        project,
        "20250102000000_rank",
        "ALTER TABLE public.translation ADD COLUMN featured integer;\n"
        "UPDATE public.translation SET rank = 1 WHERE rank IS NULL;\n",
    )
    before = rows(project, "public.translation")

    code, doc, out = apply(project)

    assert code == 0, out
    captures = [c for c in doc["applied"][0]["captures"] if c["kind"] != "sequence"]
    assert {c["status"] for c in captures} == {"captured"}, doc
    generate(project)
    run = project.execute("20250102000000_rank")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.translation") == before  # updated_at too
