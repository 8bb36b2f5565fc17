"""Size limits on SQL text: too many statements, or one nested too deep, is refused with
file:line before a tree is built (a deep enough one crashes pglast's C code)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from migration_rollback import input_limits
from migration_rollback.errors import ConfigurationError, InputLimitError
from migration_rollback.input_limits import InputLimits
from migration_rollback.sql import parse_script
from migration_rollback.sql.nesting import estimated_depth


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    input_limits.configure(None)


def plus_chain(n: int) -> str:
    return "select " + "+".join(["1"] * n)


def test_the_estimate_follows_nesting_not_length() -> None:
    assert estimated_depth(plus_chain(300)) >= 300
    flat = "insert into t values " + ", ".join(f"({i}, 'x{i}')" for i in range(5000))
    assert estimated_depth(flat) < 20
    ands = "select 1 where " + " and ".join(f"a{i} = {i}" for i in range(2000))
    assert estimated_depth(ands) < 20
    cases = "select case " + " ".join(f"when a = {i} then {i}" for i in range(2000)) + " end"
    assert estimated_depth(cases) < 20
    assert estimated_depth("select " + "(select " * 50 + "1" + ")" * 50) >= 200


def test_a_deep_statement_is_refused_at_its_line_not_crashing() -> None:
    text = "select 1;\n\n" + plus_chain(100_000) + ";\nselect 2;\n"
    with pytest.raises(InputLimitError) as caught:
        parse_script(text, "deep.sql")
    assert str(caught.value.location) == "deep.sql:3:1"
    assert "limit of 1000" in caught.value.message
    assert "--max-nesting" in caught.value.message
    assert input_limits.NESTING_ENV in caught.value.message


def test_the_default_lets_ordinary_deep_sql_through() -> None:
    script = parse_script(plus_chain(400) + ";\n", "ok.sql")
    assert len(script.statements) == 1


def test_the_limit_can_be_raised_and_lowered() -> None:
    input_limits.configure(InputLimits(nesting=5000))
    parse_script(plus_chain(2000) + ";", "f.sql")
    input_limits.configure(InputLimits(nesting=50))
    with pytest.raises(InputLimitError):
        parse_script(plus_chain(40) + ";", "f.sql")


def test_too_many_statements_names_the_first_past_the_limit() -> None:
    input_limits.configure(InputLimits(statements=3))
    parse_script("select 1;\n" * 3, "f.sql")
    with pytest.raises(InputLimitError) as caught:
        parse_script("select 1;\n" * 5, "f.sql")
    assert str(caught.value.location) == "f.sql:4:1"
    assert "5 statements, more than the limit of 3" in caught.value.message
    assert "--max-statements" in caught.value.message


def test_semicolons_in_bodies_are_no_statements() -> None:
    input_limits.configure(InputLimits(statements=2))
    body = (
        "create function f() returns void language plpgsql as $$ begin "
        + ("perform 1; " * 10)
        + "end $$;\n"
    )
    assert len(parse_script(body + "select 1;\n", "f.sql").statements) == 2


def test_the_environment_sets_the_limit_and_a_bad_value_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(input_limits.STATEMENTS_ENV, "1")
    input_limits.configure(None)  # the environment is read once, again after this
    with pytest.raises(InputLimitError):
        parse_script("select 1; select 2;", "f.sql")
    monkeypatch.setenv(input_limits.STATEMENTS_ENV, "lots")
    input_limits.configure(None)
    with pytest.raises(ConfigurationError, match=input_limits.STATEMENTS_ENV):
        input_limits.current()
    monkeypatch.delenv(input_limits.STATEMENTS_ENV)
    input_limits.configure(None)
    assert input_limits.current() == InputLimits()
