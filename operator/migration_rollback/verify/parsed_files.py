"""The migration files of one verification run, each read and parsed once.

Before the workers start, the scan for shared effects (shared_effects.py) reads and parses
every forward and rollback, while the server loads the template they copy (api.py); each
worker then read and parsed the same files again as it replayed them, and the second worker's
catch-up a third time: a tenth of the workers' time on bench/verify/bench_verify.py. Kept
here, a file is parsed once, mostly while the server alone is busy, and the replay runs the
very text the scan judged (a file changed between the two reads was judged as one text and
replayed as another).

Shared by the run's threads. A parse is a pure function of its text, so two threads that miss
the same file at once both parse it and either result serves; the trees are never changed in
place (sql/_ast.py `changed` copies), so one tree may be read by several workers.
"""

from __future__ import annotations

from pathlib import Path

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import Script, parse_script
from migration_rollback.sql.parse import normalize_text


class ParsedFiles:
    """Each file's text as the replay reads it (BOM and CR line ends gone), and each text's
    parse, kept for the run."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._scripts: dict[tuple[str, str], Script | SqlSyntaxError] = {}

    def text(self, path: Path, given: str | None = None) -> str:
        """The file's normalized text: read once; `given`, the text a caller already read
        (validate's rollback), is used as is, never read."""
        if given is not None:
            return normalize_text(given)
        key = str(path)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = normalize_text(read_text(path))
        return found

    def script(self, source: str, text: str) -> Script:
        """`parse_script(text, source)`, parsed once; its SqlSyntaxError raised anew each time."""
        key = (source, text)
        found = self._scripts.get(key)
        if found is None:
            try:
                found = parse_script(text, source)
            except SqlSyntaxError as exc:
                found = exc
            self._scripts[key] = found
        if isinstance(found, SqlSyntaxError):  # a fresh one: raised again, one keeps tracebacks
            raise type(found)(found.location, found.message)
        return found


def read_text(path: Path) -> str:
    """A migration file's text, read by the migrations folder's rule (project/migrations.py)."""
    from migration_rollback.project.migrations import read_source

    return read_source(path).text
