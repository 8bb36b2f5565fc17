"""Identifiers PostgreSQL cuts to 63 bytes: found in the text, what it keeps said, and two names
it takes for one an error (the parse trees hold the cut names, as the server does)."""

from __future__ import annotations

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import Severity
from migration_rollback.sql.long_names import (
    collisions,
    long_name_findings,
    long_names,
    may_hold_cut_names,
)

A63 = "a" * 63


def test_a_name_of_64_bytes_is_found_with_what_postgresql_keeps() -> None:
    (found,) = long_names(f"select 1;\ncreate table public.{A63}x (id int);\n")
    assert (found.line, found.written, found.kept) == (2, f"{A63}x", A63)


def test_names_of_63_bytes_and_long_literals_or_comments_are_not() -> None:
    text = f"create table {A63} (id int);\n-- {'c' * 90}\nselect '{'s' * 90}', $b${'d' * 90}$b$;\n"
    assert long_names(text) == []


def test_a_quoted_name_is_read_as_written_and_a_bare_one_in_lower_case() -> None:
    quoted, bare = long_names(f'create table "{A63}""Q" (id int); create table {A63.upper()}B ();')
    assert (quoted.written, quoted.kept) == (f'"{A63}""Q"', A63)
    assert bare.kept == A63


def test_a_multibyte_name_is_cut_at_a_character_not_inside_one() -> None:
    assert long_names(f"create table {'é' * 31} ();") == []  # 62 bytes
    (found,) = long_names(f"create table {'é' * 33} ();")  # 66 bytes: 31 characters kept
    assert found.kept == "é" * 31


def test_two_names_alike_in_their_first_63_bytes_are_a_collision_the_same_twice_is_not() -> None:
    text = f"create table {A63}x ();\ncreate index on {A63}x (id);\ncreate table {A63}y ();\n"
    names = long_names(text)
    assert [n.line for n in names] == [1, 2, 3]
    ((first, second),) = collisions(names)
    assert (first.line, second.line) == (1, 3)


def test_the_findings_say_where_what_is_dropped_and_that_a_collision_is_an_error() -> None:
    text = f"create table {A63}x ();\ncreate table {A63}y ();\n"
    findings = long_name_findings(text, "m.sql")
    assert [(f.severity, f.line) for f in findings] == [
        (Severity.WARNING, 1), (Severity.WARNING, 2), (Severity.ERROR, 2),
    ]  # fmt: skip
    assert {f.file for f in findings} == {"m.sql"}
    assert "dropping 'x'" in findings[0].message
    assert "('x', 'y')" in findings[2].message


def test_a_text_the_scanner_refuses_has_no_findings_here() -> None:
    assert long_names(f"create table {A63}x (id int) 'unterminated") == []


def test_the_trees_say_when_the_text_is_worth_reading() -> None:
    """The parser cut the long names in the trees to 63 bytes: a name that long (or a few
    bytes less, a character that did not fit) sends the text to be read; none, no read."""
    cut = parse_script(f"create table public.{A63}x (id int);").statements
    multibyte = parse_script(f"alter table t add column {'€' * 22} int;").statements  # 66 bytes
    plain = parse_script(f"create table public.{A63[:40]} (id int); select 1;").statements
    assert may_hold_cut_names(cut)
    assert may_hold_cut_names(multibyte)
    assert not may_hold_cut_names(plain)


def test_a_foreign_key_and_an_index_cut_alike_are_no_clash_two_tables_are() -> None:
    """A foreign key's name is the table's own; an index's is the schema's (tutur3u: both
    cut to one name, and PostgreSQL keeps both)."""
    text = (
        f"create table t (d int, constraint {A63}_fkey foreign key (d) references u (id));\n"
        f"create index {A63}_idx on t (d);\n"
    )
    statements = parse_script(text).statements
    clash = [f for f in long_name_findings(text, "m.sql", statements) if "differ" in f.message]
    assert [(f.severity, f.line) for f in clash] == [(Severity.WARNING, 2)]
    assert "constraint and relation" in clash[0].message
    tables = f"create table {A63}x ();\ncreate table {A63}y ();\n"
    found = long_name_findings(tables, "m.sql", parse_script(tables).statements)
    assert [f.severity for f in found if "differ" in f.message] == [Severity.ERROR]


def test_a_unique_constraint_and_an_index_cut_alike_clash() -> None:
    """A UNIQUE constraint makes an index of its name: one namespace with the index."""
    text = f"alter table t add constraint {A63}_key unique (d);\ncreate index {A63}_idx on t (d);\n"
    found = long_name_findings(text, "m.sql", parse_script(text).statements)
    assert [f.severity for f in found if "differ" in f.message] == [Severity.ERROR]
