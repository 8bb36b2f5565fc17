"""Classifying a failed forward migration (verify/causes.py) and reading stand-in headers."""

from __future__ import annotations

import pytest

from migration_rollback.verify.causes import (
    classify_failure,
    extension_in,
    in_code_body,
    missing_names,
)
from migration_rollback.verify.standins import parse_standin, standin, standin_names


@pytest.mark.parametrize(
    ("message", "names"),
    [
        ('relation "public.orders" does not exist', ["public.orders"]),
        ("function cron.schedule(unknown, unknown) does not exist", ["cron.schedule"]),
        ('schema "vault" does not exist', ["vault"]),
        ('column "note" of relation "orders" does not exist', ["note", "orders"]),
        ("operator does not exist: extensions.vector <=> extensions.vector", ["extensions.vector"]),
        ('role "supabase_admin" does not exist', ["supabase_admin"]),
    ],
)
def test_missing_names(message: str, names: list[str]) -> None:
    assert missing_names(message) == names


@pytest.mark.parametrize(
    ("message", "extension"),
    [
        ('extension "postgis" is not available', "postgis"),
        (
            'could not open extension control file "/usr/share/postgresql/15/extension/'
            'postgis.control": No such file or directory',
            "postgis",
        ),
        ("can only create extension in database postgres", "pg_cron"),
        ('required extension "hypopg" is not installed', "hypopg"),
        ('relation "t" does not exist', None),
    ],
)
def test_extension_in(message: str, extension: str | None) -> None:
    assert extension_in(message) == extension


def test_missing_extension() -> None:
    cause = classify_failure("0A000", 'extension "postgis" is not available', server_major=16)
    assert (cause.kind, cause.subject) == ("missing_extension", "postgis")


def test_depends_on_a_failed_migration_before_anything_else() -> None:
    failed = {"20250101_orders": frozenset({"orders", "public.orders", "account_id"})}
    cause = classify_failure("42P01", 'relation "public.orders" does not exist', failed=failed)
    assert (cause.kind, cause.subject) == ("depends_on", "20250101_orders")
    assert "20250101_orders" in str(cause)
    unqualified = classify_failure("42P01", 'relation "orders" does not exist', failed=failed)
    assert unqualified.kind == "depends_on"
    other = classify_failure("42P01", 'relation "public.items" does not exist', failed=failed)
    assert other.kind == "migration_error"


def test_missing_platform_objects_and_roles() -> None:
    cause = classify_failure("42883", "function realtime.send(jsonb) does not exist")
    assert (cause.kind, cause.subject) == ("missing_platform_object", "realtime.send")
    role = classify_failure("42704", 'role "supabase_admin" does not exist')
    assert role.kind == "missing_platform_object"
    mine = classify_failure("42704", 'role "reporting" does not exist')
    assert mine.kind == "migration_error"
    schema = classify_failure("3F000", 'schema "cron" does not exist')
    assert schema.kind == "missing_platform_object"


def test_another_major() -> None:
    syntax = classify_failure("42601", 'syntax error at or near "MAINTAIN"', server_major=15)
    assert syntax.kind == "other_major"
    assert "PostgreSQL 15" in syntax.detail
    newer = classify_failure("42883", "function uuidv7() does not exist", server_major=15)
    assert (newer.kind, newer.subject) == ("other_major", "uuidv7")
    there = classify_failure("42883", "function uuidv7() does not exist", server_major=18)
    assert there.kind == "migration_error"


def test_an_error_in_the_migration_itself() -> None:
    cause = classify_failure("23505", "duplicate key value violates unique constraint")
    assert cause.kind == "migration_error"
    assert cause.to_json()["kind"] == "migration_error"


def test_every_stand_in_file_has_a_valid_header() -> None:
    names = standin_names()
    for needed in ("pgsodium", "supabase_vault", "pg_graphql", "pg_jsonschema", "wrappers",
                   "pg_cron", "pg_net", "pgjwt", "pg_tle", "http", "pgmq", "vector",
                   "index_advisor"):  # fmt: skip
        assert needed in names
    for name in names:
        parsed = standin(name)
        assert parsed is not None
        assert parsed.name == name
        assert parsed.version
    vector = standin("vector")
    assert vector is not None
    assert vector.index_methods == ("hnsw", "ivfflat")
    pgjwt = standin("pgjwt")
    assert pgjwt is not None
    assert pgjwt.requires == ("pgcrypto",)
    assert '"ai"' not in pgjwt.script("ai")
    assert "ai.url_encode" in pgjwt.script("ai")


def test_a_header_must_name_its_file() -> None:
    with pytest.raises(ValueError, match="names"):
        parse_standin("x", "-- stand-in: y\nSELECT 1;\n")


def test_a_syntax_error_only_the_server_s_pl_pgsql_sees_is_the_migration_s() -> None:
    body = classify_failure(
        "42601", "unexpected end of function definition at end of input", server_major=15
    )
    assert body.kind == "migration_error"
    same_parser = classify_failure("42601", 'syntax error at or near "("', server_major=17)
    assert same_parser.kind == "migration_error"
    older = classify_failure("42601", 'syntax error at or near "("', server_major=15)
    assert older.kind == "other_major"


def test_a_syntax_error_in_a_pl_pgsql_body_is_the_migration_s_on_any_major() -> None:
    """`IF … EXCEPTION` without `END IF`: the server reports "syntax error at or near" with a
    context naming the PL/pgSQL function it was compiling; pglast never parsed that body."""
    context = 'compilation of PL/pgSQL function "inline_code_block" near line 4'
    body = classify_failure(
        "42601", 'syntax error at or near "EXCEPTION"', server_major=15, context=context
    )
    assert body.kind == "migration_error"
    named = classify_failure(
        "42601",
        'syntax error at or near ";"',
        server_major=16,
        context='compilation of PL/pgSQL function "touch" near line 9',
    )
    assert named.kind == "migration_error"
    statement = classify_failure("42601", 'syntax error at or near "EXCEPTION"', server_major=15)
    assert statement.kind == "other_major"


def test_an_error_position_inside_the_code_of_a_do_block_is_in_its_body() -> None:
    body = " begin\n  if true then\n  exception when others then null;\nend "
    statement = f"do $$ {body} $$"
    inside = statement.index("exception") + 1
    assert in_code_body(statement, [body], inside)
    assert not in_code_body(statement, [body], 1)  # on `do` itself
    assert not in_code_body(statement, [body], None)
    cause = classify_failure(
        "42601", 'syntax error at or near "exception"', server_major=15, in_body=True
    )
    assert cause.kind == "migration_error"
