"""`INSERT ... ON CONFLICT`: `apply` keeps the rows it would update and the keys it inserts;
`execute` deletes the inserted rows and writes the updated ones back (real PostgreSQL).

The first case has the shape of a seed migration from the corpus (dustatron
20251118004607_seed_official_magic_items: a VALUES list upserted by `slug`); the others are
variants: rows from a query over another table, a composite conflict target with a DO UPDATE
... WHERE that skips some conflicting rows and an enum column, and DO NOTHING. Each compares
the whole table with what it was.
"""

from __future__ import annotations

import psycopg
import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

from migration_rollback.runner.capture import (
    CaptureLimits,
    CaptureMismatchError,
    run_checked,
    take_captures,
)
from migration_rollback.sql import parse_script

pytestmark = pytest.mark.integration

ITEMS = """
CREATE TABLE public.items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  traits jsonb NOT NULL DEFAULT '[]'
);
"""
ITEMS_SEED = """
INSERT INTO public.items (id, name, slug, traits) VALUES
  ('00000000-0000-0000-0000-00000000000a', 'Amulet', 'amulet', '[{"n": 1}]'),
  ('00000000-0000-0000-0000-00000000000b', 'Bag', 'bag', '[]'),
  ('00000000-0000-0000-0000-00000000000c', 'Cloak', 'cloak', '[]');
"""
ITEMS_UPSERT = """
INSERT INTO items (name, slug, traits) VALUES
  ('Amulet Of Secrecy', 'amulet', '[{"name": "Benefit"}]'::jsonb),
  ('Bag Of Holding', 'bag', '[]'::jsonb),
  ('Dagger', 'dagger', '[{"name": "Bonus"}]'::jsonb)
ON CONFLICT (slug) DO UPDATE SET
  name = EXCLUDED.name,
  traits = EXCLUDED.traits;
"""

STOCK = """
CREATE TYPE public.grade AS ENUM ('low', 'high');
CREATE TABLE public.stock (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shop text NOT NULL,
  code integer NOT NULL,
  qty integer NOT NULL,
  grade public.grade,
  UNIQUE (shop, code)
);
"""
STOCK_SEED = """
INSERT INTO public.stock (shop, code, qty, grade) VALUES
  ('north', 1, 5, 'low'), ('north', 2, 50, 'high'), ('south', 1, 7, NULL);
"""
# The WHERE skips ('north', 2) although it conflicts: kept, written back unchanged.
STOCK_UPSERT = """
INSERT INTO public.stock AS s (shop, code, qty, grade) VALUES
  ('north', 1, 10, 'high'), ('north', 2, 10, 'low'), ('south', 9, 1, 'low')
ON CONFLICT (shop, code) DO UPDATE SET qty = s.qty + EXCLUDED.qty, grade = EXCLUDED.grade
  WHERE s.qty < 20;
"""
STOCK_NOTHING = """
INSERT INTO public.stock (shop, code, qty) VALUES ('north', 1, 99), ('east', 3, 3)
ON CONFLICT DO NOTHING;
"""

# The rows come from a query over another table (the corpus's wetraineducattiontech: Store
# admins upserted from auth.users): 'amulet' is updated, 'dagger' inserted, 'cloak' left alone.
WANTED = """
CREATE TABLE public.wanted (slug text PRIMARY KEY, name text NOT NULL, keep boolean NOT NULL);
INSERT INTO public.wanted VALUES ('amulet', 'Amulet II', true), ('dagger', 'Dagger', true),
  ('cloak', 'Cloak II', false);
"""
ITEMS_FROM_QUERY = """
INSERT INTO items (name, slug, traits)
SELECT w.name, w.slug, jsonb_build_array(w.name) FROM public.wanted w WHERE w.keep
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, traits = EXCLUDED.traits;
"""

CASES = {
    "from-a-query": (ITEMS + WANTED, ITEMS_SEED, ITEMS_FROM_QUERY, "public.items"),
    "corpus-seed": (ITEMS, ITEMS_SEED, ITEMS_UPSERT, "public.items"),
    "composite-where-enum": (STOCK, STOCK_SEED, STOCK_UPSERT, "public.stock"),
    "do-nothing": (STOCK, STOCK_SEED, STOCK_NOTHING, "public.stock"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_upsert_rolls_back_to_the_exact_rows(project: Project, case: str) -> None:
    schema, seed, upsert, table = CASES[case]
    write(project, "20250101000000_base", schema)
    assert apply(project)[0] == 0
    project.sql(seed)
    before = rows(project, table)
    write(project, "20250102000000_upsert", upsert)

    code, doc, out = apply(project)

    assert code == 0, out
    assert {c["status"] for c in doc["applied"][0]["captures"]} == {"captured"}
    assert rows(project, table) != before  # it did change rows
    generate(project)
    run = project.execute("20250102000000_upsert")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, table) == before
    assert project.versions() == ["20250101000000"]


def test_upsert_restore_counts_what_it_did(project: Project) -> None:
    write(project, "20250101000000_base", ITEMS)
    assert apply(project)[0] == 0
    project.sql(ITEMS_SEED)
    write(project, "20250102000000_upsert", ITEMS_UPSERT)
    code, doc, out = apply(project)
    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["rows"] == 3  # two prior rows kept, one inserted key
    generate(project)
    run = project.execute("20250102000000_upsert")
    assert run.returncode == 0, run.stdout + run.stderr
    restore = run.result["restore"] if run.result else []
    notes = [e.get("restored", "") for e in restore]
    assert "1 inserted row(s) deleted; 2 row(s) written back" in notes, restore


@pytest.mark.parametrize(
    ("upsert", "reason"),
    [
        (  # the conflict value is computed: evaluated twice it could differ
            "INSERT INTO items (name, slug) VALUES ('X', md5(random()::text))\n"
            "ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name;",
            "not a constant",
        ),
        (  # which rows a LIMIT keeps is the plan's choice: evaluated twice they may differ
            "INSERT INTO items (name, slug) SELECT name, slug || '2' FROM items LIMIT 2\n"
            "ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name;",
            "LIMIT",
        ),
        (  # DO UPDATE rewrites the key the rows are matched back by
            "INSERT INTO items (id, name, slug) VALUES (gen_random_uuid(), 'A', 'amulet')\n"
            "ON CONFLICT (slug) DO UPDATE SET id = EXCLUDED.id;",
            "changes the key",
        ),
    ],
)
def test_upsert_that_cannot_be_told_is_a_manual_reason(
    project: Project, upsert: str, reason: str
) -> None:
    write(project, "20250101000000_base", ITEMS)
    assert apply(project)[0] == 0
    project.sql(ITEMS_SEED)
    write(project, "20250102000000_upsert", upsert)

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["status"] == "manual"
    assert reason in capture["reason"]


LOWER_SLUG = """
CREATE FUNCTION public.lower_slug() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.slug := lower(NEW.slug); RETURN NEW; END $$;
CREATE TRIGGER items_lower_slug BEFORE INSERT OR UPDATE ON public.items
  FOR EACH ROW EXECUTE FUNCTION public.lower_slug();
"""
# 'Amulet' is compared as 'amulet' by the server, not as written: it updates the seeded row.
MIXED_CASE = """
INSERT INTO items (name, slug) VALUES ('Amulet Of Secrecy', 'Amulet')
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name;
"""


def test_upsert_on_a_table_with_a_before_row_trigger_is_manual(project: Project) -> None:
    write(project, "20250101000000_base", ITEMS + LOWER_SLUG)
    assert apply(project)[0] == 0
    project.sql(ITEMS_SEED)
    write(project, "20250102000000_upsert", MIXED_CASE)

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["status"] == "manual"
    assert "trigger items_lower_slug" in capture["reason"], capture["reason"]


def test_an_updated_row_that_was_not_kept_fails_the_statement(project: Project) -> None:
    """The trigger appears between the capture and the statement (the refusal above cannot
    see it): the updated row is not stored as inserted, the statement is refused."""
    write(project, "20250101000000_base", ITEMS)
    assert apply(project)[0] == 0
    project.sql(ITEMS_SEED)
    statement = parse_script(MIXED_CASE).statements[0]
    with psycopg.connect(project.url) as conn:
        pendings = take_captures(
            conn, statement, 1, version="20250102000000", applied="t", limits=CaptureLimits()
        )
        assert [p.record.status for p in pendings] == ["captured"]
        assert pendings[0].record.rows == 0  # 'Amulet' matches no slug as written
        conn.execute(LOWER_SLUG)
        with pytest.raises(CaptureMismatchError, match="not captured"):
            run_checked(conn, statement, pendings)
        conn.rollback()
