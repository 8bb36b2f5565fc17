"""DO blocks (real PostgreSQL): `apply` keeps the rows of the block's static UPDATE / DELETE
statements before the block runs; `execute` puts them back, and the table is what it was.

The first case has the shape of Saturday-Vinyl 20260201000001 (an `IF EXISTS` guard around
`EXECUTE 'DELETE ... NOT IN (SELECT id FROM units)'`); the others are variants: a guarded
static UPDATE, and two independent writes in one block. A table the block only UPDATEs or
INSERTs into, with rows known only when it runs (a variable, a loop), is kept whole before the
block and compared after it: the rows it changed, and the keys of those it added
(capture_diff.py). Other writes whose rows are known only when they run (a DELETE in a loop, a
computed EXECUTE), a block that moved or added rows of such a table, one too big to keep whole,
and a capture the block's guard would not reach stay MANUAL with the reason, and `apply` still
applies the migration.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

from migration_rollback.runner.capture import CaptureLimits, take_captures
from migration_rollback.sql import parse_script

pytestmark = pytest.mark.integration

LOCK_TIMEOUT = 4  # the runner's exit code for a lock timeout (retryable)

BASE = """
CREATE TABLE public.units (id bigint PRIMARY KEY, name text);
CREATE TABLE public.unit_timers (id bigint PRIMARY KEY, unit_id bigint, seconds int);
CREATE TABLE public.months (id bigint PRIMARY KEY, month_key text, start_date date);
"""
SEED = """
INSERT INTO public.units VALUES (1, 'a'), (2, 'b');
INSERT INTO public.unit_timers VALUES (10, 1, 5), (11, 7, 6), (12, 8, 7), (13, 2, NULL);
INSERT INTO public.months VALUES (1, '2024-01', NULL), (2, '2024-02', '2024-02-03'),
  (3, 'bad', NULL);
"""
CASES = {
    "corpus-constant-execute": """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'unit_timers') THEN
    EXECUTE 'DELETE FROM unit_timers WHERE unit_id NOT IN (SELECT id FROM units)';
  END IF;
END $$;
""",
    "guarded-static-update": """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_name = 'months' AND column_name = 'month_key') THEN
    UPDATE public.months
    SET start_date = coalesce(start_date, to_date(month_key || '-01', 'YYYY-MM-DD'))
    WHERE month_key ~ '^\\d{4}-(0[1-9]|1[0-2])$' AND start_date IS NULL;
  END IF;
END $$;
""",
    "two-independent-writes": """
DO $$
BEGIN
  UPDATE public.unit_timers SET seconds = 0 WHERE seconds IS NULL;
  DELETE FROM public.months WHERE month_key = 'bad';
END $$;
""",
    # achan24 20240621000003's shape: the WHERE reads a variable set in the block
    "variable-kept-whole": """
DO $$ DECLARE uid bigint; BEGIN SELECT id INTO uid FROM public.units ORDER BY id LIMIT 1;
  UPDATE public.unit_timers SET seconds = 1 WHERE unit_id = uid; END $$;
""",
    # curiousanthony 20260319140000's shape: an UPDATE per row of a loop, the exact one beside
    "loop-kept-whole": """
DO $$ DECLARE u record; BEGIN
  FOR u IN SELECT id, name FROM public.units LOOP
    UPDATE public.unit_timers SET seconds = coalesce(seconds, 0) + length(u.name)
      WHERE unit_id = u.id;
  END LOOP;
  DELETE FROM public.months WHERE month_key = 'bad';
END $$;
""",
    # curiousanthony 20260323140000's shape: a seed inserted row by row, then a backfill
    "loop-inserts-and-updates": """
DO $$ DECLARE u record; k text; BEGIN
  FOR u IN SELECT id FROM public.units LOOP
    INSERT INTO public.unit_timers (id, unit_id, seconds) VALUES (100 + u.id, u.id, NULL);
  END LOOP;
  FOREACH k IN ARRAY ARRAY['2024-03', '2024-01'] LOOP
    INSERT INTO public.months (id, month_key) VALUES (10 + length(k), k) ON CONFLICT DO NOTHING;
  END LOOP;
  UPDATE public.unit_timers SET seconds = 9 WHERE seconds IS NULL;
END $$;
""",
}


def _tables(project: Project) -> list[list[tuple[object, ...]]]:
    return [rows(project, t) for t in ("public.units", "public.unit_timers", "public.months")]


def _base(project: Project, forward: str) -> None:
    write(project, "20250101000000_base", BASE)
    assert apply(project)[0] == 0
    project.sql(SEED)
    write(project, "20250102000000_block", forward)


@pytest.mark.parametrize("case", list(CASES))
def test_do_block_writes_come_back_exactly(project: Project, case: str) -> None:
    _base(project, CASES[case])
    before = _tables(project)

    code, doc, out = apply(project)

    assert code == 0, out
    captures = doc["applied"][0]["captures"]
    assert captures
    assert {c["status"] for c in captures} == {"captured"}, captures
    assert _tables(project) != before
    generate(project)
    run = project.execute("20250102000000_block")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _tables(project) == before


@pytest.mark.parametrize(
    ("forward", "reason"),
    [
        (  # a DELETE in a loop: the table is not only updated in place
            "DO $$ DECLARE u record; BEGIN FOR u IN SELECT id FROM public.units LOOP\n"
            "  UPDATE public.unit_timers SET seconds = 1 WHERE unit_id = u.id;\n"
            "  DELETE FROM public.unit_timers WHERE unit_id = u.id + 6; END LOOP; END $$;",
            "loop",
        ),
        (  # kept whole, but the block moved its rows to other keys: found after it ran
            "DO $$ DECLARE u record; BEGIN FOR u IN SELECT id FROM public.units LOOP\n"
            "  UPDATE public.units SET id = u.id + 100 WHERE id = u.id; END LOOP; END $$;",
            "added 2 and removed 2 row(s) of public.units",
        ),
        (  # the guard is false: the column is not there, the capture cannot be taken
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.columns\n"
            "  WHERE table_name = 'months' AND column_name = 'year_month') THEN\n"
            "  UPDATE public.months SET start_date = year_month WHERE year_month IS NOT NULL;\n"
            "  END IF; END $$;",
            "capture failed before the block ran",
        ),
    ],
)
def test_do_block_writes_known_only_when_they_run_are_manual(
    project: Project, forward: str, reason: str
) -> None:
    _base(project, forward)

    code, doc, out = apply(project)

    assert code == 0, out
    captures = doc["applied"][0]["captures"]
    assert captures
    assert all(c["status"] == "manual" and reason in c["reason"] for c in captures), captures


def test_a_table_too_big_to_keep_whole_is_manual_before_the_block(project: Project) -> None:
    _base(project, CASES["variable-kept-whole"])

    code, doc, out = apply(project, "--capture-max-bytes", "100")

    assert code == 0, out
    kept = {c["target"]: c for c in doc["applied"][0]["captures"]}
    assert kept["public.unit_timers"]["status"] == "manual"
    assert "keeping the whole table takes" in kept["public.unit_timers"]["reason"]


def test_a_table_kept_whole_keeps_only_the_rows_the_block_changed(project: Project) -> None:
    _base(project, CASES["variable-kept-whole"])

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = doc["applied"][0]["captures"]
    assert capture["status"] == "captured"
    assert capture["rows"] == 1  # of 4: unit 1's timer alone


def test_a_capture_that_waits_past_lock_timeout_fails_the_run_retryable(project: Project) -> None:
    """A lock timeout is the session's, not the block's guard: MANUAL here would apply the
    block with its write not kept."""
    _base(project, CASES["corpus-constant-execute"])
    with psycopg.connect(project.url) as blocker:
        # Keeps the capture's lock out (SHARE ROW EXCLUSIVE), not the block's DELETE.
        blocker.execute("LOCK TABLE public.unit_timers IN SHARE UPDATE EXCLUSIVE MODE")
        code, doc, out = apply(project, "--lock-timeout", "300ms")
        blocker.rollback()

    assert code == LOCK_TIMEOUT, out
    assert doc["error"].startswith("lock_timeout"), doc
    assert doc["committed"] == []
    assert rows(project, "public.unit_timers")[1:3] == [(11, 7, 6), (12, 8, 7)]


def test_a_write_the_block_hides_in_a_with_keeps_the_block_manual(project: Project) -> None:
    """The UPDATE is kept, the DELETE inside a SELECT's WITH is not: `execute` must not take
    the block as answered by the captures (the unit would stay deleted)."""
    _base(
        project,
        "DO $$ DECLARE n int; BEGIN\n"
        "  UPDATE public.months SET start_date = '2024-01-01' WHERE id = 1;\n"
        "  WITH d AS (DELETE FROM public.units WHERE id = 2 RETURNING id)\n"
        "  SELECT count(*) INTO n FROM d;\n"
        "END $$;",
    )

    code, doc, out = apply(project)

    assert code == 0, out
    kept = {c["target"]: c for c in doc["applied"][0]["captures"]}
    assert kept["public.months"]["status"] == "captured"
    assert kept["public.units"]["status"] == "manual"
    assert "DELETE inside another statement" in kept["public.units"]["reason"]
    generate(project)
    run = project.execute("20250102000000_block")
    assert run.returncode != 0, run.stdout + run.stderr
    assert "MANUAL" in run.stdout + run.stderr


class _Recording(psycopg.Connection[Any]):
    """Keeps the text of every statement, in order."""

    seen: list[str]

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else query.as_string(self)
        self.seen.append(text)
        return super().execute(query, params, **kwargs)


def test_what_a_block_write_reads_is_locked_before_its_rows_are_captured(
    project: Project,
) -> None:
    """Locked after, a writer committing in between changes the rows the DELETE will hit."""
    _base(project, CASES["corpus-constant-execute"])
    statement = parse_script(CASES["corpus-constant-execute"]).statements[0]
    with _Recording.connect(project.url) as conn:
        conn.seen = []
        (pending,) = take_captures(
            conn, statement, 1, version="20250102000000", applied="t", limits=CaptureLimits()
        )
        conn.rollback()

    assert pending.record.status == "captured"
    lock = next(i for i, s in enumerate(conn.seen) if "IN SHARE MODE" in s)
    kept = next(i for i, s in enumerate(conn.seen) if s.startswith("CREATE TABLE"))
    assert '"units"' in conn.seen[lock]
    assert lock < kept
