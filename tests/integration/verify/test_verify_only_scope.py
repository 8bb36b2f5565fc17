"""`ALTER TABLE ONLY` undone with the same scope, proven on a real PostgreSQL: an inheritance
parent with a child, a partitioned table with a partition, each child holding settings of
its own that a recursing undo (`ALTER TABLE parent …` without ONLY) would overwrite.

Each migration is generated with `generate --verify`: the round trip must leave the children
as they were, and each rollback must say ONLY where the forward did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import (
    assert_verified,
    body_of,
    explain,
    generate_replays,
    statuses,
    write_project,
)

from migration_rollback.verify import GeneratedRollback, verify_project

pytestmark = pytest.mark.integration

# Each child differs from its parent: its own default, NOT NULL and trigger switch.
BASE = r"""
create table public.par (id int, b int, c int);
create table public.ch (b int default 3, c int not null) inherits (public.par);
create table public.pt (id int not null, b int, c int) partition by range (id);
create table public.pt1 partition of public.pt (b default 3, c not null)
  for values from (0) to (100);
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger pt_touch before insert on public.pt for each row execute function public.touch();
alter table public.pt1 disable trigger pt_touch;
"""

MIGRATIONS = [
    ("inherited_default", "alter table only public.par alter column b set default 7;\n"),
    ("inherited_not_null", "alter table only public.par alter column c set not null;\n"),
    ("partitioned_default", "alter table only public.pt alter column b set default 7;\n"),
    ("partitioned_trigger", "alter table only public.pt disable trigger pt_touch;\n"),
    # pg_dump's way: the parent's index alone, the partition's, then one attached to the other
    (
        "index_attached",
        "create index pt_b_idx on only public.pt (b);\n"
        "create index pt1_b_idx on public.pt1 (b);\n"
        "alter index public.pt_b_idx attach partition public.pt1_b_idx;\n",
    ),
]
VERIFIED = [name for name, _ in MIGRATIONS]
# Last: it changes the base for good. The child keeps the column as its own; no undo keeps
# to the parent alone (ADD COLUMN ONLY is refused while the child exists).
MIGRATIONS.append(("inherited_drop_column", "alter table only public.par drop column c;\n"))


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root = tmp_path_factory.mktemp("only_scope")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", VERIFIED)
def test_the_undo_leaves_the_children_alone(
    generated: dict[str, GeneratedRollback], case: str
) -> None:
    assert_verified(generated[case])


@pytest.mark.parametrize(
    ("case", "undo"),
    [
        ("inherited_default", "ALTER TABLE ONLY public.par ALTER COLUMN b DROP DEFAULT"),
        ("inherited_not_null", "ALTER TABLE ONLY public.par ALTER COLUMN c DROP NOT NULL"),
        ("partitioned_default", "ALTER TABLE ONLY public.pt ALTER COLUMN b DROP DEFAULT"),
        ("partitioned_trigger", "ALTER TABLE ONLY public.pt ENABLE TRIGGER pt_touch"),
    ],
)
def test_the_undo_says_only(generated: dict[str, GeneratedRollback], case: str, undo: str) -> None:
    """The static undo alone: no repair of a child the round trip found changed."""
    body = body_of(generated, case)
    assert [line for line in body.splitlines() if not line.startswith("--")] == [undo + ";"]


def test_an_attached_index_goes_with_its_parent(generated: dict[str, GeneratedRollback]) -> None:
    body = body_of(generated, "index_attached")
    assert body.index("DROP INDEX IF EXISTS public.pt_b_idx;") < body.index("pt1_b_idx;")


def test_a_column_dropped_from_an_inheritance_parent_alone_is_left_to_a_human(
    generated: dict[str, GeneratedRollback],
) -> None:
    g = generated["inherited_drop_column"]
    assert any("ONLY public.par DropColumn" in str(m) for m in g.still_manual), g.still_manual
    # Not the form PostgreSQL refuses while the child exists (the verifier's own fill, which
    # merges with the child's column, may follow).
    assert "ALTER TABLE ONLY public.par ADD COLUMN" not in (g.sql_body or "")


@pytest.mark.parametrize("child", ["public.ch", "public.pt1"])
def test_a_rollback_that_changes_a_child_is_not_verified(
    tmp_path: Path, shadow_url: str, child: str
) -> None:
    """Written by hand without ONLY, the undo recurses into the child and drops its own
    default: the check reads the child too (the event triggers name only the parent)."""
    parent = "public.par" if child == "public.ch" else "public.pt"
    forward = f"alter table only {parent} alter column b set default 7;\n"
    rollback = f"alter table {parent} alter column b drop default;\n"
    pairs = write_project(tmp_path, [("base", BASE, None), ("default", forward, rollback)])
    results = verify_project(pairs, shadow_url)
    assert statuses(results)[-1] != "verified", explain(results)
    assert f"{child}" in explain(results)
