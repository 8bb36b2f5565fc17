"""The result document, and its compaction into a 4 KiB termination message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.result import (
    ArchivedObject,
    ErrorInfo,
    ImpactEntry,
    Outcome,
    RunResult,
    StatementOutcome,
    compact,
    dumps,
    termination_text,
)

START = datetime(2026, 11, 24, 3, 15, tzinfo=UTC)


def big_result(statements: int = 300) -> RunResult:
    result = RunResult(
        tool_version="0.1.0",
        target="20251113000001_timeline",
        dry_run=False,
        database="postgresql://u:***@h/db",
        started_at=START,
        migrations=["20251113000001"],
        outcome=Outcome.FAILED,
        exit_code=ExitCode.SQL_ERROR,
        finished_at=START + timedelta(seconds=2),
        error=ErrorInfo("RollbackSqlError", "division by zero " * 200, "22012", 7, "r.sql:9:1"),
    )
    for n in range(1, statements + 1):
        result.statements.append(
            StatementOutcome(
                n,
                "20251113000001",
                f"r.sql:{n}:1",
                "DropStmt",
                "execute",
                f"DROP TABLE IF EXISTS public.table_number_{n}",
                "ACCESS EXCLUSIVE",
                status="done",
                rows=n,
            )
        )
        result.impact.append(
            ImpactEntry(f"table public.t{n}", "table", n, "drop", "ACCESS EXCLUSIVE", True, n)
        )
        result.archived.append(
            ArchivedObject("table", f"public.t{n}", f"archive.t{n}", n, n, restore_hint="x" * 200)
        )
    return result


def test_to_dict_puts_the_outcome_first_and_counts_rows() -> None:
    result = big_result(3)
    doc = result.to_dict()
    assert list(doc)[:5] == ["outcome", "exit_code", "exit_name", "retryable", "committed"]
    assert doc["exit_code"] == 5
    # The run failed: its rows were rolled back with the transaction, nothing was archived.
    assert doc["rows_affected"] == 0
    assert doc["rows_rolled_back"] == 6
    assert doc["changed"] is False
    assert doc["archived"] == []
    assert "table public.t1 archived to archive.t1" in doc["rolled_back"]
    assert doc["duration_ms"] == 2000
    assert doc["error"]["class"] == "RollbackSqlError"


def test_small_documents_are_unchanged() -> None:
    doc = big_result(1).to_dict()
    doc["error"]["message"] = "short"
    assert compact(doc) == json.loads(dumps(doc))


def test_compact_fits_and_says_what_it_left_out() -> None:
    doc = big_result().to_dict()
    out = compact(doc)
    assert len(dumps(out).encode()) <= 4096
    assert out["outcome"] == "failed"
    assert out["exit_code"] == 5
    assert out["error"]["class"] == "RollbackSqlError"
    assert out["error"]["sqlstate"] == "22012"
    omitted = out.get("statements_omitted", 0) + len(out.get("statements", []))
    assert omitted == 300


def test_the_result_file_fits_the_termination_message_newline_included() -> None:
    # Kubernetes keeps 4096 bytes of a termination message, the closing newline included: a
    # document of exactly 4096 bytes once went out as 4097.
    doc = big_result(1).to_dict()
    doc["error"]["message"] = "boom"
    doc["warnings"] = [""]
    doc["warnings"] = ["x" * (4096 - len(dumps(doc).encode()))]
    assert len(dumps(doc).encode()) == 4096
    assert len(termination_text(doc).encode()) <= 4096
    assert termination_text(doc).endswith("\n")


def test_compact_last_resort_keeps_the_essentials() -> None:
    doc = big_result(2).to_dict()
    doc["migrations"] = [str(n) for n in range(2000)]
    out = compact(doc, limit=600)
    assert out["truncated"] is True
    assert out["outcome"] == "failed"
    assert out["error"]["class"] == "RollbackSqlError"


def _set_result(outcome: Outcome, error_statement: int | None = None) -> RunResult:
    """Two migrations rolled back together, one statement each (newest first)."""
    result = RunResult(
        tool_version="0.1.0", target="every migration newer than 1", dry_run=False,
        database="db", started_at=START, migrations=["3", "2"], outcome=outcome,
    )  # fmt: skip
    for number, version in ((1, "3"), (2, "2")):
        result.statements.append(
            StatementOutcome(number, version, f"r.sql:{number}:1", "DropStmt", "execute",
                             "DROP TABLE t", "ACCESS EXCLUSIVE")
        )  # fmt: skip
    if error_statement is not None:
        result.error = ErrorInfo("RollbackSqlError", "boom", statement=error_statement)
    return result


def test_each_migration_of_the_set_has_its_state() -> None:
    done = _set_result(Outcome.SUCCEEDED)
    assert done.migration_states == {"3": "RolledBack", "2": "RolledBack"}
    assert _set_result(Outcome.DRY_RUN_SUCCEEDED).migration_states == {
        "3": "Pending",
        "2": "Pending",
    }
    # One transaction: the migration whose statement failed is Failed, the other was undone.
    assert _set_result(Outcome.FAILED, 2).migration_states == {"3": "Skipped", "2": "Failed"}
    # Refused before any statement ran: nothing failed, nothing was applied.
    assert _set_result(Outcome.FAILED).migration_states == {"3": "Skipped", "2": "Skipped"}
    # The COMMIT's outcome is unknown: no state would be true.
    assert _set_result(Outcome.UNKNOWN, 1).migration_states == {}


def test_the_states_survive_the_cut_to_a_termination_message() -> None:
    result = big_result()  # its failed statement 7 belongs to 20251113000001
    others = [str(v) for v in range(29)]
    result.migrations = ["20251113000001", *others]
    doc = json.loads(termination_text(result.to_dict()))
    assert len(termination_text(result.to_dict()).encode()) <= 4096
    assert doc["migration_states"] == {"20251113000001": "Failed"} | dict.fromkeys(
        others, "Skipped"
    )
