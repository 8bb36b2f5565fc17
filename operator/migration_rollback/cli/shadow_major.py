"""The shadow's PostgreSQL major on the command line: `--pg-major`, `--allow-other-major`.

`validate --verify` and `generate --verify` take the major from `--pg-major`, else from the
project's `supabase/config.toml` (`[db] major_version`); the decision itself is
`verify/majors.py` (imported lazily: the verifier pulls in psycopg).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from migration_rollback.cli.app import console, err_console, error_markup, escape

if TYPE_CHECKING:
    from migration_rollback.verify import MigrationPair, VerifyResult
    from migration_rollback.verify.majors import MajorRequirement

PgMajorOption = Annotated[
    int | None,
    typer.Option(
        "--pg-major",
        min=10,
        max=99,
        help="PostgreSQL major the shadow must run for --verify. Default: supabase/config.toml "
        "\\[db] major_version (beside the migrations folder); without either, any.",
        envvar="MIGRATION_ROLLBACK_PG_MAJOR",
        show_default=False,
    ),
]
AllowOtherMajorOption = Annotated[
    bool,
    typer.Option(
        "--allow-other-major",
        help="Verify on a shadow of another PostgreSQL major than the project's instead of "
        "refusing; every verdict is then labelled with the major it ran on.",
    ),
]


def check_shadow_url(url: str | None) -> None:
    """A shadow URL libpq cannot use is one error line and exit 2, before any work (it ended
    as "internal error ... a bug" once every migration had been parsed)."""
    if url is None:
        return
    from migration_rollback.conninfo import InvalidDatabaseUrlError, parse_database_url
    from migration_rollback.verify.shadow import SHADOW_WHERE

    try:
        parse_database_url(url, where=SHADOW_WHERE)
    except InvalidDatabaseUrlError as exc:
        console.print(error_markup(str(exc)))
        raise typer.Exit(2) from None


# A CI job cancelled (SIGTERM), a closed terminal (SIGHUP), Ctrl-C (SIGINT, which a shell
# leaves ignored for a background job): each must reach the clean-up path. The throwaway
# cluster runs in its own process group, so a signal to the CLI alone left its postmaster
# running (reparented to init, its folder in /dev/shm) and the scratch mr_shadow_* database on
# a --shadow-url server.
_STOPPING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def stop_cleanly_on_signals() -> None:
    """`--verify`: each of _STOPPING raises KeyboardInterrupt, as Ctrl-C does, so the shadow's
    `finally` blocks stop the cluster and drop the scratch database (apply/execute: run.py).
    The first one wins: the others are ignored from then on, so a second signal (a CI runner
    sends SIGINT, then SIGTERM seconds later) cannot break into that cleanup halfway (its waits
    are bounded; SIGKILL still ends the process)."""

    def _stop(signum: int, _frame: FrameType | None) -> None:
        for other in _STOPPING:
            signal.signal(other, signal.SIG_IGN)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (a test calling the app from a thread)
    for signum in _STOPPING:
        signal.signal(signum, _stop)


def refuse_shared_effects(
    pairs: Sequence[MigrationPair], url: str | None, allowed: bool, *, rollbacks: bool
) -> None:
    """A --shadow-url server keeps what a migration does to the cluster (a role's password, a
    new LOGIN role, ALTER SYSTEM): only the scratch database is dropped. Refused, exit 2,
    before anything runs, unless the user said --allow-shared-effects knowingly; the
    throwaway cluster (no --shadow-url) is dropped whole, so nothing to refuse there."""
    from migration_rollback.verify.shared_effects import first_cluster_effect

    if url is None:
        return
    where = first_cluster_effect(pairs, rollbacks=rollbacks)
    if where is None:
        return
    # On stderr: stdout may be the --format json document a pipeline reads.
    if allowed:
        err_console.print(f"[yellow]![/yellow] {escape(_STAYS.format(where=where))}")
        return
    err_console.print(error_markup(_REFUSED.format(where=where)))
    raise typer.Exit(2)


_REFUSED = (
    "refusing --shadow-url: {where} changes the shadow server itself, not only its scratch "
    "database, and the change would stay there (roles, passwords, settings are not put back). "
    "Verify on the throwaway cluster (drop --shadow-url), or pass --allow-shared-effects if "
    "that server may keep such changes"
)
_STAYS = (
    "--allow-shared-effects: {where} (and any like it) changes the shadow server itself; the "
    "change stays there after this run"
)


def shadow_requirement(
    directory: Path, pg_major: int | None, allow_other: bool
) -> MajorRequirement:
    """The major the shadow must run; a bad config.toml is one error line and exit 2."""
    from migration_rollback.verify.majors import MajorConfigError, choose_major, read_config_major

    try:
        config = read_config_major(directory) if pg_major is None else None
    except MajorConfigError as exc:
        console.print(error_markup(str(exc)))
        raise typer.Exit(2) from None
    return choose_major(flag=pg_major, config=config, allow_other=allow_other)


def major_label(result: VerifyResult) -> str:
    """The verdict's off-major label as a suffix (" - ran on PostgreSQL 15, ..."), or ""."""
    from migration_rollback.verify.majors import label_in

    label = label_in(result.notes)
    return f" - {label}" if label else ""
