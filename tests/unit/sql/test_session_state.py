"""Which rollback statements change the runner's session, and which of them are refused.

One rule table answers execute (runner/plan.py), validate and --verify: each is asked here with
the same statements, so a rollback execute refuses is never fine to the other two.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_rollback.runner.apply_steps import body_of
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.plan import build_plan
from migration_rollback.runner.rollback_file import parse_rollback
from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import Severity, session_findings
from migration_rollback.sql.session_state import (
    RULES,
    SessionState,
    changes,
    refusals,
)
from migration_rollback.sql.uncommitted import Uncommitted, uncommitted
from migration_rollback.verify.rollback_source import file_rollback
from migration_rollback.verify.verdict import Outcome, verdict_of

S = SessionState
REFUSED = [
    ("SET statement_timeout = 0", S.TIMEOUTS),
    ("SET lock_timeout = 0", S.TIMEOUTS),
    ("SET LOCAL lock_timeout = '1h'", S.TIMEOUTS),
    ("SET SESSION lock_timeout TO DEFAULT", S.TIMEOUTS),
    ('SET "Lock_Timeout" = 0', S.TIMEOUTS),  # PostgreSQL ignores a setting's case
    ("SET idle_in_transaction_session_timeout = 0", S.TIMEOUTS),
    ("RESET lock_timeout", S.TIMEOUTS),
    ("SET statement_timeout FROM CURRENT", S.TIMEOUTS),
    ("RESET ALL", S.EVERY_SETTING),
    ("DISCARD ALL", S.EVERY_SETTING),
    ("SET ROLE postgres", S.IDENTITY),
    ("RESET ROLE", S.IDENTITY),
    ("SET SESSION AUTHORIZATION postgres", S.IDENTITY),
    ("SET SESSION AUTHORIZATION DEFAULT", S.IDENTITY),
    ("SET session_replication_role = replica", S.REPLICATION_ROLE),
    ("SET LOCAL session_replication_role = replica", S.REPLICATION_ROLE),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", S.TRANSACTION),
    ("SET TRANSACTION READ ONLY", S.TRANSACTION),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", S.TRANSACTION),
    ("SET default_transaction_read_only = on", S.TRANSACTION),
    ("SET synchronous_commit = off", S.DURABILITY),
    ("SET application_name = 'app'", S.RUNNER_NAME),
    ("SET NAMES 'LATIN1'", S.PARSING),
    ("SET standard_conforming_strings = off", S.PARSING),
    ("DISCARD TEMP", S.TEMPORARY_OBJECTS),
    ("LOAD 'auto_explain'", S.LIBRARY),
    ("SELECT pg_catalog.set_config('lock_timeout', '0', false)", S.TIMEOUTS),
    ("SELECT set_config('statement_timeout', '0', true)", S.TIMEOUTS),
    ("SELECT set_config('role'::text, 'postgres', false)", S.IDENTITY),
    ("SELECT 1 FROM t WHERE set_config('session_replication_role', 'replica', true) > ''",
     S.REPLICATION_ROLE),
    ("SELECT set_config(name, '0', false) FROM settings", S.EVERY_SETTING),
]  # fmt: skip
ALLOWED = [
    ("SET search_path = app, public", S.SEARCH_PATH),
    ("SET LOCAL search_path TO app", S.SEARCH_PATH),
    ("SET SCHEMA 'app'", S.SEARCH_PATH),
    ("RESET search_path", S.SEARCH_PATH),
    ("SELECT pg_catalog.set_config('search_path', '', false)", S.SEARCH_PATH),
    ("SET client_min_messages = warning", S.OTHER_SETTING),
    ("SET check_function_bodies = false", S.OTHER_SETTING),
    ("SET myapp.flag = 'x'", S.OTHER_SETTING),
    ("LISTEN changes", S.NOTIFICATIONS),
    ("UNLISTEN *", S.NOTIFICATIONS),
    ("DISCARD PLANS", S.CACHES),
    ("DISCARD SEQUENCES", S.CACHES),
]


def _statement(sql: str) -> object:
    (statement,) = parse_script(sql + ";\n", "r.sql").statements
    return statement


@pytest.mark.parametrize(("sql", "state"), REFUSED + ALLOWED)
def test_each_statement_is_classified_by_what_it_changes(sql: str, state: SessionState) -> None:
    assert [found for found, _ in changes(_statement(sql))] == [state]  # type: ignore[arg-type]


@pytest.mark.parametrize(("sql", "state"), REFUSED)
def test_what_undoes_the_runners_session_is_refused(sql: str, state: SessionState) -> None:
    (refusal,) = refusals(parse_script(f"DROP VIEW v;\n{sql};\n", "r.sql").statements)
    assert refusal.state is state
    assert str(refusal).startswith(f"r.sql:2:1: {sql.splitlines()[0]!r}: ")


@pytest.mark.parametrize(("sql", "state"), ALLOWED)
def test_what_leaves_it_alone_is_allowed(sql: str, state: SessionState) -> None:
    assert refusals(parse_script(f"{sql};\n", "r.sql").statements) == []


@pytest.mark.parametrize(
    "sql", ["NOTIFY pgrst, 'reload schema'", "SELECT pg_notify('a', 'b')", "DROP VIEW v"]
)
def test_statements_that_change_no_session_state_are_not_its_business(sql: str) -> None:
    assert changes(_statement(sql)) == []  # type: ignore[arg-type]


def test_every_state_has_a_rule_and_every_refusal_says_what_to_do() -> None:
    assert set(RULES) == set(SessionState)
    assert all(rule.advice for rule in RULES.values())


def test_the_timeout_refusal_names_the_options_that_set_them() -> None:
    (refusal,) = refusals(parse_script("SET lock_timeout = 0;\n", "r.sql").statements)
    assert "--lock-timeout" in refusal.message
    assert "spec.job.lockTimeout" in refusal.message


ROLLBACK = "DROP VIEW v;\n\nSET lock_timeout = 0;\nDROP TABLE t;\nRESET ROLE;\n"


def test_execute_refuses_the_plan_naming_every_statement() -> None:
    name = "20251113000001_x"
    source = parse_rollback(MigrationId.parse(name), f"{name}_rollback.sql", ROLLBACK.encode())
    with pytest.raises(PreconditionError) as refused:
        build_plan([source], purge=False)
    message = str(refused.value)
    assert "nothing was run" in message
    assert f"{name}_rollback.sql:3:1: 'SET lock_timeout = 0': SET lock_timeout" in message
    assert f"{name}_rollback.sql:5:1: 'RESET ROLE': RESET role" in message


def test_validate_reports_the_same_statements_as_errors() -> None:
    findings = session_findings(parse_script(ROLLBACK, "r.sql"), "r.sql")
    assert [(f.code, f.severity, f.line) for f in findings] == [
        ("SESSION_STATE", Severity.ERROR, 3),
        ("SESSION_STATE", Severity.ERROR, 5),
    ]
    assert findings[0].message.startswith("execute refuses it: SET lock_timeout changes")


def test_verify_does_not_run_what_execute_refuses(tmp_path: Path) -> None:
    path = tmp_path / "r.sql"
    path.write_text(ROLLBACK)
    prepared = file_rollback(path)(parse_script("", "f.sql"), None, None).first()  # type: ignore[arg-type]
    assert prepared.script is None
    result = verdict_of("x", Outcome(prepared=prepared), lambda _: False)
    assert result.status == "rollback_failed"
    assert result.message.startswith(f"execute refuses it: {path}:3:1: 'SET lock_timeout = 0'")
    assert result.location == f"{path}:3:1"


TRANSACTIONS = {
    "DROP VIEW v;\nCOMMIT;\nDROP VIEW w;\n": [2],
    "BEGIN;\nSAVEPOINT a;\nDROP VIEW v;\nCOMMIT;\n": [2],
    "DROP VIEW v;\nROLLBACK;\n": [2],
    "BEGIN;\nDROP VIEW v;\nEND;\nBEGIN;\nDROP VIEW w;\nCOMMIT;\n": [3, 4],
    "BEGIN;\nDROP VIEW v;\nCOMMIT;\n": [],  # the file's own wrapper: the runner drops it
    "BEGIN;\nDROP VIEW v;\n": [1],  # never closed: psql rolls it back at the end of the file
    "START TRANSACTION;\nDROP VIEW v;\nROLLBACK;\n": [3],  # the ROLLBACK is refused
}


@pytest.mark.parametrize("sql", TRANSACTIONS)
def test_validate_and_execute_agree_on_transaction_control(sql: str) -> None:
    """One rule for both (the adversarial round 35's COMMIT that validate called valid)."""
    lines = TRANSACTIONS[sql]
    findings = session_findings(parse_script(sql, "r.sql"), "r.sql")
    assert [f.line for f in findings] == lines
    assert all("the runner owns the transaction" in f.message for f in findings)
    name = "20251113000001_x"
    source = parse_rollback(MigrationId.parse(name), f"{name}_rollback.sql", sql.encode())
    if lines:
        with pytest.raises(PreconditionError, match="the runner owns the transaction"):
            build_plan([source], purge=False)
    else:
        assert len(build_plan([source], purge=False).statements) == 1


_OPEN, _GONE, _PREPARED = (
    Uncommitted.UNCLOSED_BEGIN,
    Uncommitted.ROLLED_BACK,
    Uncommitted.PREPARED,
)
UNCOMMITTED: dict[str, tuple[int, Uncommitted] | None] = {
    "BEGIN;\ncreate table t (id int);\n": (1, _OPEN),
    "create table t (id int);\nBEGIN;\ncreate table u (id int);\n": (2, _OPEN),
    "BEGIN;\ncreate table t (id int);\nCOMMIT;\nSTART TRANSACTION;\nselect 1;\n": (4, _OPEN),
    "BEGIN;\ncreate table t (id int);\nCOMMIT;\n": None,
    "BEGIN;\ncreate table t (id int);\nEND;\nBEGIN;\nselect 1;\nCOMMIT;\n": None,
    "create table t (id int);\nCOMMIT;\n": None,
    "BEGIN;\nBEGIN;\ncreate table t (id int);\nCOMMIT;\n": None,  # the second: a warning
    # What the checks before missed: each leaves part of the file uncommitted.
    "BEGIN;\ncreate table t (id int);\nROLLBACK;\n": (3, _GONE),
    "BEGIN;\ncreate table t (id int);\nABORT;\n": (3, _GONE),
    "create table t (id int);\nROLLBACK;\ncreate table u (id int);\n": (2, _GONE),
    "BEGIN;\nSAVEPOINT a;\ncreate table t (id int);\nROLLBACK TO SAVEPOINT a;\nCOMMIT;\n": (
        4,
        _GONE,
    ),
    "BEGIN;\ncreate table t (id int);\nCOMMIT AND CHAIN;\ncreate table u (id int);\n": (
        3,
        _OPEN,
    ),
    "BEGIN;\ncreate table t (id int);\nCOMMIT AND CHAIN;\nselect 1;\nCOMMIT;\n": None,
    "BEGIN;\ncreate table t (id int);\nPREPARE TRANSACTION 'x';\n": (3, _PREPARED),
    # Not transaction control: PL/pgSQL's BEGIN, a comment, a quoted string.
    "DO $$ BEGIN PERFORM 1; END $$;\n-- BEGIN;\nselect 'BEGIN;';\n": None,
    "create function f() returns int language sql begin atomic; select 1; end;\n": None,
}


@pytest.mark.parametrize("sql", UNCOMMITTED)
def test_transaction_control_that_leaves_work_uncommitted_is_found(sql: str) -> None:
    found = uncommitted(parse_script(sql, "f.sql").statements)
    got = None if found is None else (found.statement.location.line, found.kind)
    assert got == UNCOMMITTED[sql]


def test_apply_refuses_a_forward_whose_begin_is_never_closed() -> None:
    with pytest.raises(PreconditionError, match="BEGIN without a COMMIT") as raised:
        body_of(parse_script("BEGIN;\ncreate table t (id int);\n", "f.sql"))
    assert "f.sql:1" in str(raised.value)
    assert len(body_of(parse_script("BEGIN;\ncreate table t (id int);\nCOMMIT;\n", "f.sql"))) == 1


def test_apply_says_why_a_rolled_back_forward_is_refused() -> None:
    with pytest.raises(PreconditionError, match="ROLLBACK discards what ran before it"):
        body_of(parse_script("BEGIN;\ncreate table t (id int);\nROLLBACK;\n", "f.sql"))
