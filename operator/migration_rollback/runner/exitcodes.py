"""The runner's exit codes: defined in `migration_rollback.exitcodes`, with the Job-result
contract the operator reads (`migration_rollback.jobresult`)."""

from __future__ import annotations

from migration_rollback.exitcodes import ExitCode, exit_code_help

__all__ = ["ExitCode", "exit_code_help"]
