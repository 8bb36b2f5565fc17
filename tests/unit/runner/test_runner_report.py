"""The stdout summary and the Markdown incident report say what happened and what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.runner.report import render_report, render_summary
from migration_rollback.runner.result import (
    ArchivedObject,
    BackupInfo,
    ErrorInfo,
    Outcome,
    RunResult,
    StatementOutcome,
    StepTiming,
)

START = datetime(2026, 11, 24, 3, 15, tzinfo=UTC)


def result(outcome: Outcome, code: ExitCode, error: ErrorInfo | None = None) -> RunResult:
    r = RunResult("0.1.0", "20251113000001_timeline", False, "postgresql://u:***@h/db", START)
    r.outcome, r.exit_code, r.error = outcome, code, error
    r.finished_at = START
    r.migrations = ["20251113000001"]
    r.steps = [StepTiming("connect", "ok", 3)]
    r.statements = [
        StatementOutcome(
            1,
            "20251113000001",
            "r.sql:1:1",
            "DropStmt",
            "archive-tables",
            "DROP TABLE t|x",
            "ACCESS EXCLUSIVE",
            status="done",
        )
    ]
    r.backup = BackupInfo("pg-dump", "/b/x.dump", 1234, True, 42)
    r.archived = [
        ArchivedObject(
            "table",
            "public.t",
            "migration_rollback_archive.t__1__x",
            1,
            5,
            restore_hint="ALTER TABLE ... SET SCHEMA public;",
        )
    ]
    return r


def test_success_report() -> None:
    text = render_report(result(Outcome.SUCCEEDED, ExitCode.OK))
    assert text.startswith("# Migration rollback: 20251113000001_timeline")
    assert "rollback of 20251113000001_timeline committed" in text
    assert "## Archived data" in text
    assert "ALTER TABLE ... SET SCHEMA public;" in text
    assert "DROP TABLE t\\|x" in text  # table cells are escaped
    assert "Verify the application's health checks" in text


def test_failure_report_names_the_error_and_the_next_step() -> None:
    error = ErrorInfo(
        "LockTimeoutError", "lock_timeout: canceling statement", "55P03", 1, "r.sql:1:1"
    )
    text = render_report(result(Outcome.FAILED, ExitCode.LOCK_TIMEOUT, error))
    assert "failed; nothing was changed" in text
    assert "`LockTimeoutError` (SQLSTATE 55P03)" in text
    assert "at statement 1 (r.sql:1:1)" in text
    assert "pg_stat_activity" in text


def test_summary() -> None:
    error = ErrorInfo("RollbackSqlError", "division by zero", "22012", 1, "r.sql:1:1")
    r = result(Outcome.FAILED, ExitCode.SQL_ERROR, error)
    r.statements[0].status = "failed"
    text = render_summary(r)
    assert text.splitlines()[0] == (
        "migration-rollback: rollback of 20251113000001_timeline failed; nothing was changed"
    )
    assert "exit 5 (SQL_ERROR)" in text
    assert "failed [1] r.sql:1:1" in text
    assert "error: RollbackSqlError: division by zero" in text


def test_failed_run_reports_no_archive_and_no_restore_sql() -> None:
    error = ErrorInfo("RollbackSqlError", "division by zero", "22012", 2, "r.sql:2:1")
    r = result(Outcome.FAILED, ExitCode.SQL_ERROR, error)  # archived, then rolled back
    text = render_report(r)
    assert "## Archived data" not in text
    assert "To bring it back" not in text
    assert "ALTER TABLE ... SET SCHEMA public;" not in text
    assert "| Database changed | no: the transaction was rolled back |" in text
    assert "nothing was changed or archived" in text
    assert "- table public.t archived to migration_rollback_archive.t__1__x" in text  # undone
    summary = render_summary(r)
    assert "archived table" not in summary
    assert "undone by the ROLLBACK: table public.t archived to" in summary


def test_unknown_commit_shows_archives_as_conditional() -> None:
    r = result(Outcome.UNKNOWN, ExitCode.COMMIT_UNKNOWN)
    text = render_report(r)
    assert "## Archived data (only if the commit went through)" in text
    assert "ALTER TABLE ... SET SCHEMA public;" in text
    assert "| Database changed | unknown" in text
    assert "if the commit went through: archived table public.t" in render_summary(r)


def test_dry_run_names_the_statements_that_advance_sequences() -> None:
    r = result(Outcome.DRY_RUN_SUCCEEDED, ExitCode.OK)
    r.dry_run = True
    r.statements.append(
        StatementOutcome(
            2, "20251113000001", "r.sql:4:1", "InsertStmt", "execute",
            "INSERT INTO public.app_settings (key) VALUES ('x')", "ROW EXCLUSIVE", status="done",
        )
    )  # fmt: skip
    text, summary = render_report(r), render_summary(r)
    for rendered in (text, summary):
        assert "does not roll back nextval()" in rendered
        assert "[2] r.sql:4:1: INSERT INTO public.app_settings" in rendered
    assert "[1] r.sql:1:1" not in r.notes[0]  # a DROP draws no sequence value
    assert r.to_dict()["notes"] == r.notes
    assert "## Archived data" not in text


def test_dry_run_without_inserts_still_warns_about_sequences_in_general() -> None:
    r = result(Outcome.DRY_RUN_SUCCEEDED, ExitCode.OK)
    r.dry_run = True
    (note,) = r.notes
    assert "does not roll back nextval()" in note
    assert "No statement here is known to draw sequence values" in note
    assert result(Outcome.SUCCEEDED, ExitCode.OK).notes == []  # only a rehearsal needs it
