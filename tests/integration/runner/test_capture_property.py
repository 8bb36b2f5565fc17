"""Property: for random data and random data-changing migrations, apply + rollback is identity.

Random rows (NULLs included) in a keyed table; a random migration of UPDATE / DELETE / ALTER
COLUMN TYPE (lossy ones included) / DROP COLUMN statements, applied with `apply`; its rollback
holds only MANUAL markers (what no rollback SQL can know), so the data and the types come back
from the capture alone. Every column's type and a checksum of every row must be as before.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from capture_support import apply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runner_support import Project

pytestmark = pytest.mark.integration

COLUMNS = ("a", "b", "c")
START = {"a": "integer", "b": "text", "c": "numeric"}
SET_VALUES = {
    "integer": ["NULL", "0", "{c} + 1", "-{c}"],
    "text": ["NULL", "'x'", "{c} || 'y'", "upper({c})"],
    "numeric": ["NULL", "1.5", "{c} * 2", "round({c})"],
}
CONVERSIONS = {
    "integer": [("text", "{c}::text"), ("numeric", "{c}::numeric")],
    "text": [("integer", "CASE WHEN {c} ~ '^-?[0-9]{{1,9}}$' THEN {c}::integer END")],
    "numeric": [("integer", "round({c})::integer"), ("text", "{c}::text")],
}

ints = st.one_of(st.none(), st.integers(-1000, 1000))
texts = st.one_of(st.none(), st.sampled_from(["", "7", "-12", "abc", "007", " 5", "x y"]))
numerics = st.one_of(st.none(), st.decimals(-1000, 1000, places=2, allow_nan=False))
rows_strategy = st.lists(st.tuples(ints, texts, numerics), min_size=0, max_size=25)


@st.composite
def migrations(draw: Any) -> list[str]:
    """A random sequence of data-changing statements, valid for the types as they evolve."""
    types = dict(START)
    statements = []
    for _ in range(draw(st.integers(1, 5))):
        live = [c for c in COLUMNS if c in types]
        choice = draw(st.sampled_from(["update", "delete", "alter", "drop"]))
        column = draw(st.sampled_from(live))
        k, r = draw(st.integers(2, 4)), draw(st.integers(0, 1))
        if choice == "update":
            value = draw(st.sampled_from(SET_VALUES[types[column]])).format(c=column)
            statements.append(f"UPDATE public.t SET {column} = {value} WHERE id % {k} = {r};")
        elif choice == "delete":
            statements.append(f"DELETE FROM public.t WHERE id % {k} = {r};")
        elif choice == "alter":
            new, using = draw(st.sampled_from(CONVERSIONS[types[column]]))
            statements.append(
                f"ALTER TABLE public.t ALTER COLUMN {column} TYPE {new} "
                f"USING {using.format(c=column)};"
            )
            types[column] = new
        elif len(live) > 1:
            statements.append(f"ALTER TABLE public.t DROP COLUMN {column};")
            del types[column]
    return statements


def _state(project: Project) -> tuple[list[tuple[Any, ...]], str | None]:
    types = project.sql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'public.t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY 1"
    )
    checksum = project.value(
        "SELECT md5(string_agg(concat_ws('|', id, a::text, b::text, c::text, "
        "a IS NULL, b IS NULL, c IS NULL), ',' ORDER BY id)) FROM public.t"
    )
    return types, checksum


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=rows_strategy, statements=migrations())
def test_apply_then_rollback_restores_every_row(
    pg_server: Any, data: list[tuple[Any, ...]], statements: list[str]
) -> None:
    name = pg_server.create_database("prop")
    try:
        with tempfile.TemporaryDirectory() as root:
            project = Project(Path(root), pg_server.url_for(name))
            (project.migrations / "20250101000000_t.sql").write_text(
                "CREATE TABLE public.t (id int PRIMARY KEY, a integer, b text, c numeric);"
            )
            assert apply(project)[0] == 0
            for number, row in enumerate(data, start=1):
                project.sql("INSERT INTO public.t VALUES (%s, %s, %s, %s)", [number, *row])
            before = _state(project)
            forward = "20250102000000_random"
            (project.migrations / f"{forward}.sql").write_text("\n".join(statements) + "\n")
            code, _, out = apply(project)
            assert code == 0, out
            rollback = [f"-- ROLLBACK: {forward}", ""]
            for line, text in reversed(list(enumerate(statements, start=1))):
                rollback += [f"-- undoes {forward}.sql:{line}: {text}", "-- MANUAL: data", ""]
            (project.migrations / f"{forward}_rollback.sql").write_text("\n".join(rollback))

            run = project.execute(forward)

            assert run.returncode == 0, run.stdout + run.stderr
            assert _state(project) == before, statements
    finally:
        pg_server.drop_database(name)
