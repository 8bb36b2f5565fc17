"""Captured tables with triggers (real PostgreSQL): what `execute` puts back is exactly the rows.

A trigger that only assigns fields of NEW (`updated_at := now()`) changes only the captured
row: the capture keeps whole rows and the restore runs with it silenced, so it does not stamp
the restored rows again. The first case has the shape of the corpus's Saturday-Vinyl migrations
(an UPDATE of `products`, whose BEFORE UPDATE trigger sets `updated_at`); the others are
variants: a DELETE whose restore fires a BEFORE INSERT stamp, an upsert with a version counter
on an ENABLE ALWAYS trigger, moddatetime's C trigger (achan24/nextjs-supabase-app), a guard
that reads another table to decide (SELECT ... INTO, as moonklabs/sprintable's soft-delete and
agent-type guards). A trigger that writes another table keeps the item MANUAL.
"""

from __future__ import annotations

import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

pytestmark = pytest.mark.integration

PRODUCTS = """
CREATE TABLE public.products (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  short_name text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.audit (id bigserial PRIMARY KEY, what text);
CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  IF TG_OP = 'INSERT' THEN NEW.created_at = now(); END IF;
  IF TG_OP = 'UPDATE' THEN NEW.version := OLD.version + 1; END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION public.log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.audit (what) VALUES (TG_OP || ' ' || NEW.name);
  RETURN NEW;
END $$;
"""
STAMP_ON_UPDATE = (
    "CREATE TRIGGER stamp BEFORE UPDATE ON public.products "
    "FOR EACH ROW EXECUTE FUNCTION public.stamp();\n"
)
STAMP_ALWAYS = (
    "CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON public.products "
    "FOR EACH ROW EXECUTE FUNCTION public.stamp();\n"
    "ALTER TABLE public.products ENABLE ALWAYS TRIGGER stamp;\n"
)
# A guard: reads who acts (a setting, as auth.uid() does) and their kind in another table.
GUARD = """
CREATE TABLE public.makers (id bigint PRIMARY KEY, kind text NOT NULL);
INSERT INTO public.makers VALUES (1, 'owner');
CREATE FUNCTION public.current_maker() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.maker', true), '')::bigint $$;
CREATE FUNCTION public.guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE _kind text;
BEGIN
  SELECT kind INTO _kind FROM public.makers WHERE id = coalesce(public.current_maker(), 1);
  IF _kind IS DISTINCT FROM 'owner' THEN RAISE EXCEPTION 'only owners change products'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER guard BEFORE UPDATE ON public.products
  FOR EACH ROW EXECUTE FUNCTION public.guard();
"""
# The dashboard's way (extension moddatetime, C): sets updated_at on UPDATE.
MODDATETIME = (
    "CREATE EXTENSION IF NOT EXISTS moddatetime;\n"
    "CREATE TRIGGER handle_updated_at BEFORE UPDATE ON public.products "
    "FOR EACH ROW EXECUTE PROCEDURE moddatetime(updated_at);\n"
)
SEED = """
INSERT INTO public.products (id, name, short_name, created_at, updated_at) VALUES
  (1, 'Saturday Crate', NULL, '2024-01-01', '2024-01-02'),
  (2, 'Saturday Hub', 'hub', '2024-02-01', '2024-02-02'),
  (3, 'Speaker', NULL, '2024-03-01', '2024-03-02');
"""
CASES = {
    "corpus-update": (
        STAMP_ON_UPDATE,
        "UPDATE products SET short_name = CASE WHEN name LIKE 'Saturday %' "
        "THEN substring(name FROM 10) ELSE name END WHERE short_name IS NULL;",
    ),
    "delete-restamped-on-restore": (
        STAMP_ALWAYS,
        "DELETE FROM public.products WHERE id >= 2;",
    ),
    "upsert-version-counter": (
        STAMP_ALWAYS,
        "INSERT INTO public.products (id, name) VALUES (1, 'Crate'), (9, 'New')\n"
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;",
    ),
    "moddatetime-stamp": (
        MODDATETIME,
        "UPDATE public.products SET short_name = lower(name) WHERE id >= 2;",
    ),
    "guard-reads-another-table": (
        GUARD,
        "UPDATE public.products SET short_name = upper(name) WHERE id <= 2;",
    ),
}


def _triggers(project: Project) -> list[tuple[str, str]]:
    return [
        (str(n), str(e))
        for n, e in project.sql(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'public.products'::regclass ORDER BY 1"
        )
    ]


def _base(project: Project, triggers: str, forward: str) -> None:
    write(project, "20250101000000_base", PRODUCTS + triggers)
    assert apply(project)[0] == 0
    project.sql("ALTER TABLE public.products DISABLE TRIGGER USER")
    project.sql(SEED)  # the seed keeps its own timestamps
    project.sql("ALTER TABLE public.products ENABLE TRIGGER USER")
    if "ALWAYS" in triggers:
        project.sql("ALTER TABLE public.products ENABLE ALWAYS TRIGGER stamp")
    write(project, "20250102000000_change", forward)


@pytest.mark.parametrize("case", list(CASES))
def test_row_triggers_do_not_restamp_the_restored_rows(project: Project, case: str) -> None:
    triggers, forward = CASES[case]
    _base(project, triggers, forward)
    before, enabled = rows(project, "public.products"), _triggers(project)

    code, doc, out = apply(project)

    assert code == 0, out
    assert {c["status"] for c in doc["applied"][0]["captures"]} == {"captured"}, doc
    assert rows(project, "public.products") != before
    generate(project)
    run = project.execute("20250102000000_change")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.products") == before  # updated_at, created_at, version too
    assert _triggers(project) == enabled  # enabled again, ALWAYS kept


@pytest.mark.parametrize(
    "forward",
    [
        "UPDATE public.products SET short_name = 'x' WHERE id = 1;",
        "DELETE FROM public.products WHERE id = 3;",  # its restore would INSERT: audited
    ],
)
def test_trigger_writing_another_table_keeps_it_manual(project: Project, forward: str) -> None:
    triggers = (
        "CREATE TRIGGER log_change AFTER INSERT OR UPDATE ON public.products "
        "FOR EACH ROW EXECUTE FUNCTION public.log_change();\n"
    )
    _base(project, triggers, forward)

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = [c for c in doc["applied"][0]["captures"] if c["kind"] != "sequence"]
    assert capture["status"] == "manual"
    assert "trigger log_change on public.products may write other rows" in capture["reason"]
    assert "runs insert" in capture["reason"].lower()
