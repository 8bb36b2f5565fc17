"""What `apply` does with a forward migration's change of its session: one table
(FORWARD_RULES, keyed like the rollbacks' RULES) answers apply and validate alike."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.sql.checks import Severity, forward_session_findings
from migration_rollback.sql.session_state import (
    FORWARD_RULES,
    Forward,
    SessionState,
    forward_findings,
    forward_settings,
)

S = SessionState
DUMP_HEADER = """\
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
"""


def test_every_state_has_a_forward_rule() -> None:
    assert set(FORWARD_RULES) == set(SessionState)
    assert all(advice for action, advice in FORWARD_RULES.values() if action != Forward.ALLOWED)


@pytest.mark.parametrize(
    ("sql", "action"),
    [
        ("SET statement_timeout = 0", Forward.KEPT),
        ("SET SESSION statement_timeout = 0", Forward.KEPT),
        ("SELECT set_config('lock_timeout', '0', false)", Forward.KEPT),
        ("SET transaction_timeout = 0", Forward.KEPT),
        ("RESET ALL", Forward.KEPT),
        ("DISCARD ALL", Forward.KEPT),
        ("SET ROLE authenticated", Forward.SCOPED),
        ("SET SESSION AUTHORIZATION postgres", Forward.SCOPED),
        ("SET synchronous_commit = off", Forward.SCOPED),
        ("SET session_replication_role = replica", Forward.REFUSED),
        ("SELECT set_config('session_replication_role', 'replica', false)", Forward.REFUSED),
    ],
)
def test_what_apply_does_with_a_forward_statement(sql: str, action: Forward) -> None:
    (found,) = forward_findings(parse_script(f"{sql};\n", "f.sql").statements)

    assert found.action is action
    assert found.message.startswith(f"`{sql}` changes {found.state}: ")
    assert ("apply refuses it" in found.message) is (action is Forward.REFUSED)


def test_the_dump_header_keeps_three_timeouts_and_nothing_else() -> None:
    found = forward_findings(parse_script(DUMP_HEADER, "f.sql").statements)

    assert [(f.line, f.state, f.action) for f in found] == [
        (line, S.TIMEOUTS, Forward.KEPT) for line in (1, 2, 3)
    ]


def test_the_settings_apply_keeps_and_scopes() -> None:
    assert {"lock_timeout", "statement_timeout", "transaction_timeout"} <= set(
        forward_settings(Forward.KEPT)
    )
    assert set(forward_settings(Forward.SCOPED)) == {
        "role", "session_authorization", "synchronous_commit", "application_name"
    }  # fmt: skip


def test_validate_warns_with_applys_words_at_the_statements_line() -> None:
    script = parse_script("CREATE TABLE t (id int);\nSET ROLE app;\n", "f.sql")

    (finding,) = forward_session_findings(script, "20250101_a.sql")

    assert (finding.code, finding.severity, finding.line) == ("SESSION_STATE", Severity.WARNING, 2)
    assert finding.file == "20250101_a.sql"
    assert finding.message == forward_findings(script.statements)[0].message


def test_a_credential_in_the_statement_is_masked_in_the_message() -> None:
    sql = "SELECT set_config('lock_timeout', '0', false), 'postgres://u:s3cretpw@h/d';\n"

    (found,) = forward_findings(parse_script(sql, "f.sql").statements)

    assert "s3cretpw" not in found.message
    assert "set_config('lock_timeout'" in found.message
