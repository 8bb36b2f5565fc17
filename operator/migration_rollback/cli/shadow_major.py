"""The shadow's PostgreSQL major on the command line: `--pg-major`, `--allow-other-major`.

`validate --verify` and `generate --verify` take the major from `--pg-major`, else from the
project's `supabase/config.toml` (`[db] major_version`); the decision itself is
`verify/majors.py` (imported lazily: the verifier pulls in psycopg).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migration_rollback.cli.app import console, error_markup

if TYPE_CHECKING:
    from migration_rollback.verify import VerifyResult
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
