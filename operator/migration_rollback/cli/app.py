"""The typer application every subcommand registers on, and shared CLI helpers."""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from migration_rollback import input_limits
from migration_rollback.cli.guard import scrub_given
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.shown import shown, shown_lines
from migration_rollback.url_env import SHADOW_URL_ENV

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from migration_rollback.project.workspace import LoadedMigration
    from migration_rollback.verify.made import ProjectNames

# A line that starts a new item: a bullet, a numbered step, or a right-aligned exit code
# ("  4  LOCK_TIMEOUT: ...").
_ITEM = re.compile(r"^\s*(?:[-*•]\s|\d+[.)]\s|\d+\s+[A-Z][A-Z_]+:)")


def prose(text: str | None) -> str | None:
    """Help text as it should render: wrapped source lines joined, paragraphs and items kept.

    Typer's rich help keeps every newline of a docstring, so a line wrapped at 100 columns in
    the source showed as a broken fragment at any other terminal width.
    """
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(_join_paragraph(p) for p in paragraphs)


def _join_paragraph(paragraph: str) -> str:
    if paragraph.startswith("\b"):  # click's "do not rewrap" marker: kept verbatim
        return paragraph
    lines: list[str] = []
    for raw in paragraph.splitlines():
        line = raw.strip()
        if lines and not _ITEM.match(raw):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(raw.rstrip() if _ITEM.match(raw) else line)
    return "\n".join(lines)


def _reflow(command: Any) -> None:
    # Any: typer's vendored click classes live in a private module (typer._click).
    command.help = prose(command.help)
    command.epilog = prose(command.epilog)
    for param in command.params:
        if isinstance(getattr(param, "help", None), str):
            param.help = prose(param.help)


class ProseGroup(TyperGroup):
    """The root command group: every command's and option's help text reflowed once."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _reflow(self)
        for command in self.commands.values():
            _reflow(command)


app = typer.Typer(
    cls=ProseGroup,
    name="migration-rollback",
    help=(
        "Generate, validate and safely execute rollbacks of PostgreSQL (Supabase) migrations.\n\n"
        "Run from the project root (the folder holding supabase/migrations)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class LazyConsole:
    """A rich Console made on first use: `--version` never imports rich, a command only when
    it prints.

    soft_wrap: long findings stay one line each in CI logs and pipes (grep-able).
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.real.print(*objects, **options)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def escape(markup: str) -> str:
    """Text for a rich console: unprintable characters escaped (a file or object name's ESC,
    carriage return, BiDi override; the message's own line breaks kept) and rich markup
    escaped (`rich.markup.escape`, imported on first use)."""
    from rich.markup import escape as rich_escape

    return rich_escape(shown_lines(markup))


def escape_name(name: str) -> str:
    """A file, migration or object name for a rich console: a line break in it escaped too."""
    return escape(shown(name))


def error_markup(message: str) -> str:
    """An error line for a rich console. The message may repeat an argument (a URL pasted as
    the folder or a file), so it is scrubbed of every secret the process was given."""
    return f"[red]error:[/red] {escape(scrub_given(message))}"


def fail(command: str, message: str, code: int = 2) -> typer.Exit:
    """One scrubbed line on stderr and the exit to raise (the usage code unless told)."""
    typer.echo(f"migration-rollback {command}: error: {scrub_given(message)}", err=True)
    return typer.Exit(code)


DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        "-d",
        help="Folder of forward migrations (<timestamp>_<name>.sql).",
        envvar="MIGRATION_ROLLBACK_DIR",
    ),
]
DEFAULT_DIR = Path("supabase/migrations")
ShadowOption = Annotated[
    str | None,
    typer.Option(
        "--shadow-url",
        help="Superuser URL of a scratch PostgreSQL server for --verify (a database is created "
        "and dropped on it). Default: a throwaway local cluster from PostgreSQL's binaries.",
        envvar=SHADOW_URL_ENV,
        show_default=False,
    ),
]

AllowSharedEffectsOption = Annotated[
    bool,
    typer.Option(
        "--allow-shared-effects",
        help="With --verify --shadow-url: run migrations that change the shadow server itself "
        "(roles, their settings and memberships, databases, tablespaces, ALTER SYSTEM) instead "
        "of refusing. Those changes STAY on that server: only its scratch database is dropped.",
    ),
]

ExactColumnOrderOption = Annotated[
    bool,
    typer.Option(
        "--exact-column-order",
        help="With --verify: a column that comes back last counts as a difference; generate "
        "rebuilds such a table so its columns come back in their order (an ACCESS EXCLUSIVE "
        "lock while its rows are copied; the rollback's report says so).",
    ),
]


# Each job is a shadow database and its connections: more than this would exhaust a default
# server's max_connections (100) before it ran faster on any machine this tool runs on.
MAX_JOBS = 32

JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        min=1,
        max=MAX_JOBS,
        help="With --verify: shadow databases checking migrations at once, on the same shadow "
        "server (each replays the migrations before its share first; the verdicts are the "
        "same). Default: one a CPU, at most 4, fewer for a small project.",
        show_default=False,
    ),
]


# The options that only mean something with --verify, by parameter name.
_VERIFY_ONLY = {
    "shadow_url": "--shadow-url",
    "pg_major": "--pg-major",
    "allow_other_major": "--allow-other-major",
    "exact_column_order": "--exact-column-order",
    "jobs": "--jobs",
    "allow_shared_effects": "--allow-shared-effects",
}


def typed_option(ctx: typer.Context, name: str) -> bool:
    """Given on the command line, not left at its default nor read from the environment (by
    name: typer carries its own copy of click's ParameterSource)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def verify_only_problem(ctx: typer.Context, verify: bool) -> str | None:
    """A --verify option typed without --verify was ignored silently: name it. One set in the
    environment (the shadow URL, set for every command) is not a mistake."""
    if verify:
        return None
    typed = [flag for name, flag in _VERIFY_ONLY.items() if typed_option(ctx, name)]
    return f"{typed[0]} only applies with --verify (add --verify, or drop it)" if typed else None


def _version(value: bool) -> None:
    if value:
        from migration_rollback import __version__

        # What console.print wrote, without importing rich for one line.
        typer.echo(f"migration-rollback {__version__}")
        raise typer.Exit()


def _limit_option(name: str, env: str, what: str, default: int) -> Any:
    """An input limit's option (input_limits.py): None when not given, the environment's
    value when set there."""
    return typer.Option(name, min=1, envvar=env, help=f"{what}.", show_default=str(default))


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    max_file_mb: Annotated[
        int | None,
        _limit_option(
            input_limits.FILE_MB_OPTION,
            input_limits.FILE_MB_ENV,
            "Refuse SQL files larger than this many MB",
            input_limits.DEFAULT_MAX_FILE_MB,
        ),
    ] = None,
    max_statements: Annotated[
        int | None,
        _limit_option(
            input_limits.STATEMENTS_OPTION,
            input_limits.STATEMENTS_ENV,
            "Refuse SQL files holding more statements",
            input_limits.DEFAULT_MAX_STATEMENTS,
        ),
    ] = None,
    max_nesting: Annotated[
        int | None,
        _limit_option(
            input_limits.NESTING_OPTION,
            input_limits.NESTING_ENV,
            "Refuse statements nested deeper (estimated)",
            input_limits.DEFAULT_MAX_NESTING,
        ),
    ] = None,
) -> None:
    """Generate, validate and safely execute rollbacks of PostgreSQL (Supabase) migrations."""
    # Typer read the environment for each option not given: None is the default.
    given = (max_file_mb, max_statements, max_nesting)
    defaults = input_limits.InputLimits()
    input_limits.configure(
        None
        if given == (None, None, None)
        else input_limits.InputLimits(
            max_file_mb or defaults.file_mb,
            max_statements or defaults.statements,
            max_nesting or defaults.nesting,
        )
    )


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Progress]:
    """A progress bar on a terminal; silent when output is piped (CI logs stay clean)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn(f"{label} [dim]{{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console.real,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with progress:
        progress.add_task("", total=total)
        yield progress


def advance(progress: Progress, description: str) -> None:
    task = progress.task_ids[0]
    progress.update(task, advance=1, description=description)


def load_project(directory: Path, label: str) -> list[LoadedMigration]:
    """The parsed project, or one error line and exit 2; ignored files are named on stderr."""
    from migration_rollback.project.migrations import scan
    from migration_rollback.project.workspace import load

    try:
        found = scan(directory)
        for line in found.ignored:
            err_console.print(f"[yellow]warning:[/yellow] {escape(line)}")
        with progress_bar(len(found.migrations), label) as bar:
            return load(directory, progress=lambda name: advance(bar, name))
    except MigrationRollbackError as exc:
        console.print(error_markup(str(exc)))
        raise typer.Exit(2) from None


def made_names(loaded: list[LoadedMigration]) -> ProjectNames:
    """What each usable migration makes, read from the scripts `load_project` parsed (the
    shadow then tells objects no migration makes from real errors: verify/causes.py)."""
    from migration_rollback.verify.made import project_names

    usable = (item for item in loaded if item.usable)
    return project_names((i.migration.name, i.script, i.source.text) for i in usable)


def output_path_problem(option: str, path: Path | None) -> str | None:
    """Why a file a command is asked to write cannot be written, found before it does any work:
    after a COMMIT, a result or report that cannot be written ends the run OUTPUT_FAILED
    although the database changed (runner/output_file.py says what only the write can tell)."""
    if path is None:
        return None
    path_shown = shown(str(path))  # a name with a line break would forge a line of its own
    if path.is_dir():
        return f"{option} {path_shown}: is a directory, not a file"
    if path.exists():  # /dev/termination-log: writable in a folder that is not
        return None if os.access(path, os.W_OK) else f"{option} {path_shown}: is not writable"
    # Through a link, the folder that must exist is the one the link leads to.
    folder = Path(os.path.realpath(path)).parent if path.is_symlink() else path.parent
    if not folder.is_dir():
        return f"{option} {path_shown}: the folder {shown(str(folder))} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{option} {path_shown}: the folder {shown(str(folder))} is not writable"
    return None


def same_output_problem(paths: dict[str, Path | None]) -> str | None:
    """Two options naming one file: the second write would replace the first without a word.
    A device (/dev/null for both) is no file to lose."""
    seen: dict[object, str] = {}
    for option, path in paths.items():
        if path is None or (path.exists() and not path.is_file()):
            continue
        names = (os.path.realpath(path), _file_identity(path))  # a hard link: its own path
        earlier = next((seen[name] for name in names if name in seen), None)
        if earlier is not None:
            return f"{earlier} and {option} name the same file {shown(str(path))}: give two paths"
        seen.update((name, option) for name in names if name is not None)
    return None


def input_output_problem(
    outputs: dict[str, Path | None], directory: Path, *read: Path | None
) -> str | None:
    """An output naming a file the run reads (a migration or rollback in `directory`, a
    `--rollback-file`): the JSON written after the run would replace the SQL without a word."""
    sql_files = directory.glob("*.sql") if directory.is_dir() else ()
    given = [p for p in (*sql_files, *read) if p is not None]
    inputs = {os.path.realpath(p) for p in given}
    files = {_file_identity(p) for p in given} - {None}  # a hard link has a path of its own
    for option, path in outputs.items():
        if path is not None and (os.path.realpath(path) in inputs or _file_identity(path) in files):
            return f"{option} {shown(str(path))} is a file the run reads: give another path"
    return None


def _file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file; None when there is none to stat."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino
