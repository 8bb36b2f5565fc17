"""Each way a run ends has one exit code, and retryability is part of it."""

from __future__ import annotations

import pytest
from psycopg import errors as pg_errors

from migration_rollback.errors import DatabaseUnavailableError, SourceLocation, SqlSyntaxError
from migration_rollback.redact import Redactor
from migration_rollback.runner.errors import (
    BackupError,
    ConnectionFailedError,
    ConnectionLostError,
    LockTimeoutError,
    PreconditionError,
    RollbackSqlError,
    TransactionConflictError,
    exit_code_for,
    is_retryable,
)
from migration_rollback.runner.exitcodes import ExitCode, exit_code_help
from migration_rollback.runner.session import translate


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (None, ExitCode.OK, False),
        (PreconditionError("x"), ExitCode.PRECONDITION_FAILED, False),
        (SqlSyntaxError(SourceLocation("f.sql", 1, 2), "bad"), ExitCode.PRECONDITION_FAILED, False),
        (LockTimeoutError("x"), ExitCode.LOCK_TIMEOUT, True),
        (RollbackSqlError("x", sqlstate="22012"), ExitCode.SQL_ERROR, False),
        (BackupError("x"), ExitCode.BACKUP_FAILED, False),
        (ConnectionFailedError("x"), ExitCode.CONNECTION_FAILED, True),
        (ConnectionFailedError("auth", transient=False), ExitCode.CONNECTION_FAILED, False),
        (ConnectionLostError("x"), ExitCode.CONNECTION_LOST, True),
        (TransactionConflictError("x", sqlstate="40P01"), ExitCode.TRANSACTION_CONFLICT, True),
        (DatabaseUnavailableError("x"), ExitCode.CONNECTION_FAILED, True),
        (RuntimeError("bug"), ExitCode.INTERNAL_ERROR, False),
    ],
)
def test_exit_code_and_retryable(
    error: BaseException | None, code: ExitCode, retryable: bool
) -> None:
    assert exit_code_for(error) is code
    assert is_retryable(error) is retryable


def test_codes_are_distinct_and_documented() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    text = exit_code_help()
    for code in ExitCode:
        assert f"{code.value:>3}  {code.name}: " in text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (pg_errors.DeadlockDetected("deadlock detected"), ExitCode.TRANSACTION_CONFLICT),
        (pg_errors.SerializationFailure("could not serialize"), ExitCode.TRANSACTION_CONFLICT),
        (pg_errors.LockNotAvailable("lock timeout"), ExitCode.LOCK_TIMEOUT),
        (pg_errors.DivisionByZero("division by zero"), ExitCode.SQL_ERROR),
    ],
)
def test_server_errors_are_classified_by_sqlstate(error: Exception, code: ExitCode) -> None:
    translated = translate(error, Redactor.none())
    assert exit_code_for(translated) is code
    assert is_retryable(translated) is code.retryable
