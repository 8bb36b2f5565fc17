"""Which called user functions provably write nothing (read, not run; the catalog is a dict)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from migration_rollback.sql.function_code import (
    MAX_DEPTH,
    UserFunction,
    call_problem,
    is_builtin,
)
from migration_rollback.sql.trigger_code import assigned_fields, only_row_changes

CODE = {
    "slug": ("plpgsql", "BEGIN RETURN lower(regexp_replace($1, '\\s+', '-', 'g')); END"),
    "lookup": (
        "plpgsql",
        "DECLARE n int; r record; BEGIN SELECT count(*) INTO n FROM t WHERE a = $1;"
        " FOR r IN SELECT b FROM t LOOP n := n + 1; END LOOP; RETURN public.slug($1); END",
    ),
    "sql_slug": ("sql", "SELECT public.slug($1)"),
    "audit": ("plpgsql", "BEGIN INSERT INTO audit VALUES ($1); RETURN $1; END"),
    "sql_audit": ("sql", "INSERT INTO audit VALUES ($1) RETURNING a"),
    "cte": ("sql", "WITH d AS (DELETE FROM t RETURNING a) SELECT a FROM d"),
    "dynamic": ("plpgsql", "BEGIN EXECUTE 'SELECT 1'; RETURN 1; END"),
    "writer_call": ("sql", "SELECT public.audit($1)"),
    "unknown_call": ("plpgsql", "BEGIN RETURN pg_notify('c', $1); END"),
    "c_code": ("c", "slug_c"),
    "ping": ("plpgsql", "BEGIN RETURN public.pong($1); END"),
    "pong": ("plpgsql", "BEGIN RETURN public.ping($1); END"),
    **{f"deep{n}": ("sql", f"SELECT public.deep{n + 1}($1)") for n in range(MAX_DEPTH + 1)},
    f"deep{MAX_DEPTH + 1}": ("sql", "SELECT 1"),
    "empty": ("sql", ""),  # prosrc of a SQL-standard body (BEGIN ATOMIC ... END)
    "sql_select_into": ("sql", "SELECT $1 INTO public.copy_of"),  # SQL's INTO makes a table
    # auth.uid()'s shape: reads the request's claims from a setting
    "claim": ("sql", "SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid"),
}


def lookup(name: Sequence[str]) -> Sequence[UserFunction]:
    found = CODE.get(name[-1])
    return [UserFunction(f"public.{name[-1]}", *found)] if found else []


@pytest.mark.parametrize(
    "called", ["slug", "lookup", "sql_slug", "pg_catalog.lower", "deep2", "claim"]
)
def test_functions_that_only_compute_or_read_pass(called: str) -> None:
    assert call_problem(f"SELECT {called}('x')", lookup) is None


@pytest.mark.parametrize(
    ("called", "why"),
    [
        ("audit", "runs INSERT"),
        ("sql_audit", "runs INSERT"),
        ("cte", "runs DELETE"),
        ("dynamic", "dynexecute"),
        ("writer_call", "audit()"),
        ("unknown_call", "pg_notify()"),
        ("c_code", "written in c"),
        ("ping", "cycle (public.ping -> public.pong -> public.ping)"),
        ("deep0", f"more than {MAX_DEPTH} calls deep"),
        ("nowhere", "nowhere(), which may write"),
        ("evil.lower", "evil.lower()"),
        ("empty", "public.empty is not readable"),
        ("sql_select_into", "creates a table"),  # a schema-qualified name is not the built-in
    ],
)
def test_functions_that_may_write_are_named(called: str, why: str) -> None:
    found = call_problem(f"SELECT {called}('x')", lookup)
    assert found is not None
    assert why in found, found
    assert called.split(".")[-1] in found


def test_a_sql_standard_body_is_not_read() -> None:
    def atomic(name: Sequence[str]) -> Sequence[UserFunction]:
        return [UserFunction("public.atomic", "sql", "SELECT 1", sql_body=True)]

    assert "not readable" in (call_problem("SELECT public.atomic('x')", atomic) or "")


def test_trigger_body_follows_its_calls() -> None:
    body = "BEGIN NEW.slug = public.lookup(NEW.name); RETURN NEW; END"
    assert only_row_changes(body, "plpgsql", lookup) is None
    assert "lookup()" in (only_row_changes(body) or "")  # no catalog: unknown, may write
    audited = "BEGIN NEW.slug := sql_audit(NEW.name); RETURN NEW; END"
    assert "sql_audit()" in (only_row_changes(audited, "plpgsql", lookup) or "")


@pytest.mark.parametrize(
    ("name", "builtin"),
    [(["lower"], True), (["pg_catalog", "lower"], True), (["myschema", "lower"], False),
     (["LOWER"], True), (["make_slug"], False)],
)  # fmt: skip
def test_a_builtin_is_unqualified_or_in_pg_catalog(name: list[str], builtin: bool) -> None:
    assert is_builtin(name) is builtin


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("BEGIN NEW.email := lower(NEW.email); RETURN NEW; END", {"email"}),
        (
            "BEGIN NEW.updated_at = now(); IF TG_OP = 'UPDATE' THEN"
            " NEW.version := OLD.version + 1; END IF; RETURN NEW; END",
            {"updated_at", "version"},
        ),
        ("DECLARE n int; BEGIN n := 1; RETURN NEW; END", set()),
        ("BEGIN NEW := OLD; RETURN NEW; END", None),  # every field
        ("BEGIN RETURN NEW", None),  # does not parse
    ],
)
def test_the_fields_a_trigger_assigns(body: str, fields: set[str] | None) -> None:
    found = assigned_fields(body)
    assert (None if found is None else set(found)) == fields


def test_a_trigger_assigning_the_whole_new_row_is_read() -> None:
    # varno 0 (NEW) is left out of the parser's JSON: reading it must not fail
    assert only_row_changes("BEGIN NEW := OLD; RETURN NEW; END") is None
