"""A DROP ... CASCADE forgets the definitions that name the dropped object where their parse
tree names it, schema resolved: not those reading another schema's object of the same name or
a column that merely shares it (matched on bare words, they were forgotten, and the rollback
left to a human what it could undo), and still those naming it unqualified under a search_path
or qualified."""

from __future__ import annotations

from migration_rollback.sql import build_history, parse_script

TABLES = """
create schema other;
create schema app;
create table public.x (a int);
create table other.x (a int);
create table app.x (a int);
create table public.t (x int);
"""


def _kept(*migrations: str) -> set[tuple[str, str | None, str]]:
    scripts = [parse_script(text, f"{n}.sql") for n, text in enumerate(migrations)]
    history = build_history(scripts)
    return {(d.ref.kind, d.ref.schema, d.ref.name) for d in history.definitions.values()}


def test_another_schemas_object_of_the_same_name_is_kept() -> None:
    views = "create view public.v as select a from other.x;"
    kept = _kept(TABLES, views, "drop table public.x cascade;")
    assert ("view", "public", "v") in kept


def test_a_column_sharing_the_name_is_kept() -> None:
    views = "create view public.w as select x from public.t;"
    kept = _kept(TABLES, views, "drop table public.x cascade;")
    assert ("view", "public", "w") in kept


def test_a_drop_in_code_unread_forgets_only_that_schema() -> None:
    drop = "do $$ begin drop table other.x cascade; end $$;"
    kept = _kept(TABLES, drop)
    assert ("table", "public", "x") in kept
    assert ("table", "app", "x") in kept


def test_unqualified_mention_under_a_search_path_is_forgotten() -> None:
    views = "set search_path to app;\ncreate view app.u as select a from x;"
    kept = _kept(TABLES, views, "drop table app.x cascade;")
    assert ("view", "app", "u") not in kept


def test_qualified_mention_is_forgotten_and_its_dependents() -> None:
    views = (
        "create view public.q as select a from other.x;\n"
        "create view public.r as select a from public.q;\n"
        "create policy p on public.t using (exists (select 1 from other.x));\n"
    )
    kept = _kept(TABLES, views, "drop table other.x cascade;")
    assert {("view", "public", "q"), ("view", "public", "r")}.isdisjoint(kept)
    assert not {k for k in kept if k[0] == "policy"}


def test_a_column_of_a_dropped_type_goes_only_for_that_schema() -> None:
    types = (
        "create type public.mood as enum ('a');\ncreate type other.mood as enum ('b');\n"
        "create table public.m (c other.mood, d public.mood);\n"
    )
    history = build_history(
        [parse_script(types, "0.sql"), parse_script("drop type public.mood cascade;", "1.sql")]
    )
    assert set(history.columns[("public", "m")]) == {"c"}
