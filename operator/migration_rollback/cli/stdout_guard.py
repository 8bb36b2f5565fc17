"""A command's stdout that cannot be written ends the run in one line, never as a bug.

`validate > /dev/full` (ENOSPC), a redirect to a closed descriptor (EBADF) or a disk that fails
(EIO) raised an OSError out of whatever print met it, which the entry point took for a bug:
"internal error ... please report it", exit 1. `execute`, `apply` and `emergency` already say
such a failure themselves (runner/output_file.py, exit OUTPUT_FAILED); every other command went
down that way. Here stdout is wrapped once, for every command: a write or flush that fails
raises `StdoutFailed` (an OSError, so those commands' own handlers still catch it), and the
entry point says it in one line on stderr and exits OUTPUT_FAILED. The command stops at that
print: what it did before stands (a rollback file `generate` wrote is whole: each is written
apart and renamed into place), what came after it was not done.

A reader that goes away early (`validate | head -1`: EPIPE) is no failure of the command's: as
a program killed by SIGPIPE would, it exits 141, quietly.

Either way stdout is then pointed at /dev/null, so that the interpreter's last flush at exit has
nothing left to fail on ("Exception ignored ... BrokenPipeError" on stderr).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, TextIO

# 128 + SIGPIPE: what a shell reports for a program a closed pipe killed.
CLOSED_PIPE_EXIT = 141


class StdoutFailed(OSError):
    """Writing the command's output to stdout failed. Its `errno` is left unset, the cause's
    kept apart: click takes an OSError with errno EPIPE for its own and exits 1 on it."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.strerror = cause.strerror
        self.cause_errno = cause.errno

    @property
    def closed_pipe(self) -> bool:
        return self.cause_errno == errno.EPIPE

    def line(self) -> str:
        """The one stderr line for a failure that is not a closed pipe."""
        return (
            "migration-rollback: error: could not write the output to stdout: "
            f"{self.strerror or 'write failed'} (the command stopped there: what it did "
            "before stands, nothing after it was done)"
        )


class _GuardedStream:
    """The stream, its failed writes and flushes raised as StdoutFailed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except StdoutFailed:
            raise
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except StdoutFailed:
            raise
        except OSError as exc:
            raise StdoutFailed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_stdout() -> None:
    """Wrap sys.stdout (once) so that its failures raise StdoutFailed."""
    if not isinstance(sys.stdout, _GuardedStream) and sys.stdout is not None:
        sys.stdout = _GuardedStream(sys.stdout)


def finish_output() -> None:
    """Flush stdout before the exit code is settled: a failure is the command's to report."""
    if sys.stdout is not None:
        sys.stdout.flush()


def silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null: the interpreter's last flush cannot fail."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        os.close(null)
    except (OSError, ValueError):
        pass
