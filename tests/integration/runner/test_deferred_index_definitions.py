"""An index step is compared with the index there as the server stores both, not as written.

pg_get_indexdef adds casts and parentheses (`WHERE status = 'x'` is stored as
`WHERE (status = 'x'::text)`) and leaves out defaults: the check that a step's index is the one
it means refused exactly that index (after the build, and when finishing a stopped one).
Each kind of index the text differs for: partial, expression, INCLUDE, operator class,
collation; and one that really differs is still refused.
"""

from __future__ import annotations

import psycopg
import pytest
from capture_support import apply
from runner_support import Project
from test_runner_deferred_steps import _index, _kill_while_waiting, _start_apply

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
TABLE = "20250101000001_t"
INDEX = "20250101000002_idx"
INDEXES = {
    "partial": "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (v) WHERE status = 'x'",
    "expression": "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (lower(name), (v + 1))",
    "include": "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (v) INCLUDE (name, status)",
    "opclass": "CREATE INDEX CONCURRENTLY t_v_idx ON public.t (name text_pattern_ops)",
    "collation": 'CREATE INDEX CONCURRENTLY t_v_idx ON public.t (name COLLATE "C" DESC)',
    "all": 'CREATE INDEX CONCURRENTLY t_v_idx ON t USING btree (lower(name) COLLATE "C" '
    "text_pattern_ops) INCLUDE (v) WHERE v > 0 AND status IN ('a', 'b')",
}


def _write(project: Project, index: str) -> None:
    (project.migrations / f"{TABLE}.sql").write_text(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int, status text, name text);\n"
    )
    (project.migrations / f"{INDEX}.sql").write_text(f"{index};\n")


@pytest.mark.parametrize("kind", sorted(INDEXES))
def test_an_index_built_as_written_is_accepted(project: Project, kind: str) -> None:
    _write(project, INDEXES[kind])

    code, _doc, out = apply(project)

    assert code == 0, out
    assert _index(project) is True


@pytest.mark.parametrize("kind", sorted(INDEXES))
def test_a_stopped_build_is_finished_by_the_next_apply(project: Project, kind: str) -> None:
    _write(project, INDEXES[kind])
    assert apply(project, "--to", TABLE.split("_")[0])[0] == 0
    with psycopg.connect(project.url) as holder:
        holder.execute("LOCK TABLE public.t IN SHARE UPDATE EXCLUSIVE MODE")  # the build waits
        _kill_while_waiting(project, _start_apply(project), "CREATE INDEX CONCURRENTLY")
        holder.rollback()
    assert not _index(project)  # left INVALID by the stopped build

    code, _doc, out = apply(project)

    assert code == 0, out
    assert _index(project) is True


def test_an_index_that_differs_only_in_its_predicate_is_still_refused(project: Project) -> None:
    _write(project, INDEXES["partial"])
    assert apply(project, "--to", TABLE.split("_")[0])[0] == 0
    project.sql("CREATE INDEX t_v_idx ON public.t (v) WHERE status = 'y'")

    code, _doc, out = apply(project)

    assert code != 0, out
    assert "exists with another definition" in out
    assert "WHERE (status = 'y'::text)" in out
