"""The order check of a rollback's drops: a tie carried by a part the rollback removes first
(a foreign key, a column) no longer orders the drops. The shape of pg_dump's and ORMs' files
(every foreign key an ALTER TABLE of its own) and of the generator's rollbacks for them (the
constraints dropped first, then the tables in any order) was reported invalid in four of 32
real projects; a drop that does come too early is still found."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import order_findings
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.sql.history import History

FORWARD = (
    "create table public.parent (id uuid primary key);\n"
    "create table public.child (id int primary key, parent_id uuid, owner_id uuid);\n"
    "alter table only public.child add constraint child_parent_fkey\n"
    "  foreign key (parent_id) references public.parent (id);\n"
    "alter table public.child add foreign key (owner_id) references public.parent (id);\n"
)


def _pairs(forward: str, rollback: str) -> list[tuple[str, str]]:
    found = order_findings(parse_script(forward, "m.sql"), parse_script(rollback, "r.sql"), "r")
    pairs = [(f.message.split(" ")[1], f.message.split(" before ")[1].split(" ")[0]) for f in found]
    return [(a.removeprefix("public."), b.removeprefix("public.")) for a, b in pairs]


def test_tables_dropped_in_any_order_once_their_foreign_keys_are_gone() -> None:
    rollback = (
        "alter table only public.child drop constraint if exists child_parent_fkey;\n"
        "alter table public.child drop constraint child_owner_id_fkey;\n"  # PostgreSQL's name
        "drop table public.parent;\ndrop table public.child;\n"
    )
    assert _pairs(FORWARD, rollback) == []


@pytest.mark.parametrize(
    "first",
    [
        "",  # nothing cut
        "alter table public.child drop constraint child_parent_fkey;\n",  # one of the two keys
        "alter table public.other drop constraint child_parent_fkey, "
        "drop constraint child_owner_id_fkey;\n",  # another table's constraints
    ],
)
def test_a_tie_still_held_orders_the_drops(first: str) -> None:
    rollback = first + "drop table public.parent;\ndrop table public.child;\n"
    assert _pairs(FORWARD, rollback) == [("parent", "child")]


def test_a_key_dropped_after_the_table_it_needs_does_not_count() -> None:
    rollback = (
        "drop table public.parent;\n"
        "alter table public.child drop constraint child_parent_fkey, "
        "drop constraint child_owner_id_fkey;\n"
        "drop table public.child;\n"
    )
    assert _pairs(FORWARD, rollback) == [("parent", "child")]


def test_columns_carry_their_inline_keys_and_types() -> None:
    forward = (
        "create type public.mood as enum ('ok');\n"
        "create table public.parent (id int primary key);\n"
        "create table public.child (id int primary key,\n"
        "  parent_id int references public.parent, feeling public.mood);\n"
    )
    early = "drop table public.parent;\ndrop type public.mood;\ndrop table public.child;\n"
    assert _pairs(forward, early) == [("mood", "child"), ("parent", "child")]
    columns_first = "alter table public.child drop column parent_id, drop column feeling;\n" + early
    assert _pairs(forward, columns_first) == []
    key_first = "alter table public.child drop constraint child_parent_id_fkey;\n" + early
    assert _pairs(forward, key_first) == [("mood", "child")]  # the key's name, not the type's


def test_views_triggers_and_policies_are_tied_for_as_long_as_they_exist() -> None:
    forward = (
        "create table public.t (id int);\n"
        "create function public.f() returns trigger language plpgsql\n"
        "  as $$ begin return new; end $$;\n"
        "create function public.ok() returns boolean language sql as $$ select true $$;\n"
        "create view public.v as select id from public.t;\n"
        "create trigger tr before insert on public.t for each row execute function public.f();\n"
        "create policy p on public.t using (public.ok());\n"
    )
    rollback = (
        "drop table public.t;\ndrop function public.f();\ndrop function public.ok();\n"
        "drop view public.v;\ndrop trigger tr on public.t;\ndrop policy p on public.t;\n"
    )
    assert sorted(_pairs(forward, rollback)) == [("f", "tr"), ("ok", "p"), ("t", "v")]


def test_the_generated_rollback_of_a_dump_passes() -> None:
    dump = FORWARD + (
        "create function public.ok() returns boolean language sql stable as $$ select true $$;\n"
        "alter table public.child enable row level security;\n"
        'create policy "child read" on public.child for select using (public.ok());\n'
        # pg_dump writes a function again after what uses it: its undo must not drop it first
        "create or replace function public.ok() returns boolean language sql stable\n"
        "  as $$ select true and true $$;\n"
    )
    forward = parse_script(dump, "m.sql")
    body = generate_rollback(forward, "m", History()).render_body()
    assert order_findings(forward, parse_script(body, "r.sql"), "r.sql") == []
    assert body.lower().count("drop function") == 1
    assert body.lower().index('drop policy if exists "child read"') < body.lower().index(
        "drop function"
    )


def test_a_name_in_another_schema_is_another_object() -> None:
    """grida: `referrer` references public.customer; the rollback drops the view
    grida_west_referral.customer first: no tie between them."""
    forward = (
        "create table public.customer (id int primary key);\n"
        "create view grida_west_referral.customer as select 1 as id;\n"
        "create table public.referrer (id int, c int references public.customer (id));\n"
    )
    rollback = (
        "drop view grida_west_referral.customer;\ndrop table public.referrer;\n"
        "drop table public.customer;\n"
    )
    assert _pairs(forward, rollback) == []
    tied = "drop table public.customer;\ndrop table public.referrer;\n"
    assert _pairs(forward, tied) == [("customer", "referrer")]
