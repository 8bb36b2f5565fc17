"""Writing a file the user asked for (`--result-file`, `--report`), and saying so when it fails.

A CI step that asks for `--result-file out.json` and gets exit 0 with no file has been misled,
and a traceback after a COMMIT is no better. The CLI refuses a path it can tell is unusable
before any work (`cli.app.output_path_problem`); what only the write itself can tell (a full
disk, a folder removed during the run) ends here: the run exits `OUTPUT_FAILED` (a run that had
already failed keeps its own code, which says more about the database), and one line on stderr
names the file, the operating system's reason and what the database work came to. The database
work is finished before any file is written, so a failed write never leaves it half done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from migration_rollback.redact import Redactor
from migration_rollback.runner.exitcodes import ExitCode
from migration_rollback.shown import shown


@dataclass(frozen=True, slots=True)
class Unwritten:
    """Output that could not be written: which (`the result file`), where, and why."""

    what: str
    where: str  # a path, or "to stdout"
    reason: str

    @property
    def words(self) -> str:
        return f"could not write {self.what} {shown(self.where)}: {self.reason}"

    def line(self, command: str, outcome: str) -> str:
        """The one line for stderr; `outcome` says what the database work came to."""
        return f"migration-rollback {command}: error: {outcome}; {self.words}"


def write_output(what: str, path: Path, text: str) -> Unwritten | None:
    """Write `text` to `path`; what went wrong, or None. /dev/full fails at close: caught too."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return Unwritten(what, str(path), exc.strerror or str(exc))
    return None


def print_output(what: str, stream: TextIO, text: str) -> Unwritten | None:
    """Print `text` (the summary) to `stream`: stdout redirected to a file can fill a disk too,
    and after a COMMIT that must not end the run as an internal error."""
    try:
        stream.write(text)
        stream.flush()
    except OSError as exc:
        return Unwritten(what, "to stdout", exc.strerror or str(exc))
    return None


def exit_after(code: ExitCode, unwritten: list[Unwritten]) -> ExitCode:
    """The exit code once the files are written: success that lost a file is not success; a
    failure keeps its own code (it tells what the database came to; the line tells the rest)."""
    return ExitCode.OUTPUT_FAILED if unwritten and code is ExitCode.OK else code


def say_unwritten(
    stderr: TextIO, command: str, outcome: str, unwritten: list[Unwritten], redactor: Redactor
) -> None:
    """One scrubbed line per file that could not be written (a path may repeat the URL)."""
    for item in unwritten:
        stderr.write(redactor.scrub(item.line(command, outcome)) + "\n")
    stderr.flush()
