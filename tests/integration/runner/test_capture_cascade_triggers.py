"""Triggers on the child tables a DELETE reaches through foreign keys (real PostgreSQL).

`DELETE FROM orders` deletes `items` rows (ON DELETE CASCADE) and sets `notes.order_id` to NULL
(ON DELETE SET NULL): those children's triggers fire as the parent's do. A child trigger that
only stamps its row is silenced while the restore writes whole child rows back; one that writes
another table keeps the DELETE MANUAL, naming the trigger and the child.
"""

from __future__ import annotations

import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

pytestmark = pytest.mark.integration

TABLES = """
CREATE TABLE public.orders (id bigint PRIMARY KEY, label text);
CREATE TABLE public.items (
  id bigint PRIMARY KEY, order_id bigint REFERENCES public.orders ON DELETE CASCADE,
  touched_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE public.notes (
  id bigint PRIMARY KEY, order_id bigint REFERENCES public.orders ON DELETE SET NULL,
  touched_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE public.audit (id bigserial PRIMARY KEY, what text);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.touched_at := now(); RETURN NEW; END $$;
CREATE FUNCTION public.log_gone() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.audit (what) VALUES (TG_TABLE_NAME); RETURN OLD; END $$;
CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON public.items
  FOR EACH ROW EXECUTE FUNCTION public.touch();
CREATE TRIGGER touch BEFORE INSERT OR UPDATE ON public.notes
  FOR EACH ROW EXECUTE FUNCTION public.touch();
"""
SEED = """
ALTER TABLE public.items DISABLE TRIGGER USER;
ALTER TABLE public.notes DISABLE TRIGGER USER;
INSERT INTO public.orders VALUES (1, 'one'), (2, 'two');
INSERT INTO public.items VALUES (10, 1, '2024-01-01'), (20, 2, '2024-01-02');
INSERT INTO public.notes VALUES (100, 1, '2024-02-01'), (200, 2, '2024-02-02');
ALTER TABLE public.items ENABLE TRIGGER USER;
ALTER TABLE public.notes ENABLE TRIGGER USER;
"""
FORWARD = "DELETE FROM public.orders WHERE id = 1;"


def _base(project: Project, extra: str) -> None:
    write(project, "20250101000000_base", TABLES + extra)
    assert apply(project)[0] == 0
    project.sql(SEED)
    write(project, "20250102000000_change", FORWARD)


def _all(project: Project) -> list[list[tuple[object, ...]]]:
    return [rows(project, t) for t in ("public.orders", "public.items", "public.notes")]


def test_stamping_child_triggers_do_not_restamp_the_restored_rows(project: Project) -> None:
    _base(project, "")
    before = _all(project)

    code, doc, out = apply(project)

    assert code == 0, out
    captures = doc["applied"][0]["captures"]
    assert {c["status"] for c in captures} == {"captured"}, doc
    assert rows(project, "public.notes")[0][2] != before[2][0][2]  # SET NULL stamped it
    generate(project)
    run = project.execute("20250102000000_change")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _all(project) == before  # touched_at of items and notes as they were


@pytest.mark.parametrize(
    ("child", "events"), [("items", "AFTER DELETE"), ("notes", "AFTER UPDATE")]
)
def test_a_child_trigger_writing_another_table_keeps_it_manual(
    project: Project, child: str, events: str
) -> None:
    _base(
        project,
        f"CREATE TRIGGER log_gone {events} ON public.{child} "
        "FOR EACH ROW EXECUTE FUNCTION public.log_gone();\n",
    )

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = [c for c in doc["applied"][0]["captures"] if c["kind"] != "sequence"]
    assert capture["status"] == "manual", doc
    assert f"reaches public.{child}" in capture["reason"], capture["reason"]
    assert "trigger log_gone" in capture["reason"]
