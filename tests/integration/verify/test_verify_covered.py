"""A difference on an object a MANUAL item of the generated rollback leaves to a human is
`manual`, not `mismatch`; a difference no item covers still is a mismatch, named first; a
hand-edited rollback has no covers. `generate`, then `validate --verify` on a real PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from verify_support import write_project

from migration_rollback.cli import app

pytestmark = pytest.mark.integration

# Objects the migrations make where the generator cannot see (DO blocks): their earlier state
# is unknown to it, so their rollbacks leave steps to a human.
PROJECT: list[tuple[str, str, str | None]] = [
    (
        "base",
        "create table if not exists public.u (id int);\n"
        "create function public.f() returns int language sql as 'select 0';\n"
        'create table public.w (id int, c text collate "C" not null);\n'
        "grant select (c) on public.w to public;\n"
        "do $$ begin execute 'create table public.v (id int)'; end $$;\n",
        None,
    ),
    (
        "dynamic_f",
        "do $$ begin execute 'create or replace function public.f() returns int "
        "language sql as ''select 2'''; end $$;\n",
        None,
    ),
    (
        "if_not_exists",
        "create table if not exists public.t (id int);\n"
        "create index if not exists t_i on public.t (id);\n",
        None,
    ),
    ("row_security", "alter table public.u enable row level security;\n", None),
    ("column_default", "alter table public.v alter column id set default 1;\n", None),
    (
        "mixed",
        "alter table public.v enable row level security;\n"
        "do $$ begin execute 'create table public.dyn (id int)'; end $$;\n",
        None,
    ),
    # The rollback re-adds the column (with its collation), not its column privilege; its
    # MANUAL item is the values' (and the NOT NULL after them).
    ("drop_collated", "alter table public.w drop column c;\n", None),
]


def _verify(root: Path, shadow: str) -> dict[str, dict[str, Any]]:
    out = CliRunner().invoke(
        app, ["validate", "--verify", "--shadow-url", shadow, "--format", "json"]
    )
    doc = json.loads(out.output)
    return {m["migration"].split("_", 1)[1]: m["verification"] for m in doc["migrations"]}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path, PROJECT)
    monkeypatch.chdir(tmp_path)
    generated = CliRunner().invoke(app, ["generate"])
    assert generated.exit_code == 0, generated.output
    return tmp_path / "supabase" / "migrations"


def _objects(entries: list[dict[str, Any]]) -> set[str]:
    return {e["object"] for e in entries}


def test_differences_a_manual_item_leaves_are_manual(project: Path, pg_server: Any) -> None:
    proofs = _verify(project, pg_server.admin_url)
    for case in ("if_not_exists", "row_security", "column_default"):
        assert proofs[case]["status"] == "manual", proofs[case]
        assert proofs[case]["differences"] == [], proofs[case]
        assert not proofs[case]["schema_restored"]
    assert _objects(proofs["if_not_exists"]["covered"]) >= {"index public.t_i", "table public.t"}
    (rls,) = proofs["row_security"]["covered"]
    assert (rls["object"], rls["attribute"]) == ("table public.u", "row security")
    assert _objects(proofs["column_default"]["covered"]) == {"column public.v.id"}
    message = proofs["column_default"]["message"]
    assert message.startswith("the schema differs only where MANUAL items leave the step"), message
    rollback = "20250101000005_column_default_rollback.sql"
    (covered,) = proofs["column_default"]["covered"]
    assert covered["manual"] == (
        f"{rollback}:9: default of public.v.id changed; restore the previous default"
    )
    assert f"(MANUAL at {rollback}:9)" in message


def test_an_uncovered_difference_stays_a_mismatch_named_first(
    project: Path, pg_server: Any
) -> None:
    proofs = _verify(project, pg_server.admin_url)
    mixed = proofs["mixed"]
    assert mixed["status"] == "mismatch", mixed
    # The DO block's table: its MANUAL item names no object, so it covers nothing.
    assert _objects(mixed["differences"]) == {"table public.dyn", "column public.dyn.id"}
    assert _objects(mixed["covered"]) == {"table public.v"}  # its row security: a human's call
    assert mixed["message"] == (
        "the rollback does not restore the schema: 2 object(s) differ: 0 missing, 2 left "
        "behind, 0 changed; 1 more difference(s) where MANUAL items leave the step to a human"
    )
    # A function a DO block replaced: no item targets it.
    assert proofs["dynamic_f"]["status"] == "mismatch"
    assert _objects(proofs["dynamic_f"]["differences"]) == {"function public.f()"}


def test_a_hand_edited_rollback_has_no_covers(project: Path, pg_server: Any) -> None:
    path = project / "20250101000003_if_not_exists_rollback.sql"
    path.write_text(path.read_text() + "-- reviewed\n")
    proof = _verify(project, pg_server.admin_url)["if_not_exists"]
    assert proof["status"] == "mismatch", proof
    assert proof["covered"] == []
    assert _objects(proof["differences"]) >= {"index public.t_i", "table public.t"}


def test_a_values_item_does_not_excuse_what_the_readded_column_lacks(
    project: Path, pg_server: Any
) -> None:
    proof = _verify(project, pg_server.admin_url)["drop_collated"]
    assert proof["status"] == "mismatch", proof
    wrong = {(d["object"], d["attribute"]) for d in proof["differences"]}
    assert wrong == {("column public.w.c", "privileges")}, proof  # the collation came back
    left = {(c["object"], c["attribute"]) for c in proof["covered"]}
    assert left == {("column public.w.c", "not null")}, proof
