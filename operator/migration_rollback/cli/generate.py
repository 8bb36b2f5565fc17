"""`migration-rollback generate`: write rollback SQL and docs beside each migration.

The engine (pglast), the project layer and rich are imported when the command runs, not when
it is registered: `--version` and `--help` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from migration_rollback.cli.app import (
    DEFAULT_DIR,
    AllowSharedEffectsOption,
    DirOption,
    ExactColumnOrderOption,
    JobsOption,
    ShadowOption,
    advance,
    app,
    console,
    error_markup,
    escape,
    escape_name,
    fail,
    load_project,
    made_names,
    progress_bar,
    verify_only_problem,
)
from migration_rollback.cli.shadow_major import (
    AllowOtherMajorOption,
    PgMajorOption,
    check_shadow_url,
    major_label,
    refuse_shared_effects,
    shadow_requirement,
    stop_cleanly_on_signals,
)
from migration_rollback.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from migration_rollback.project.generation import GenerateResult
    from migration_rollback.project.workspace import LoadedMigration
    from migration_rollback.verify.majors import MajorRequirement


@app.command("generate")
def generate(
    ctx: typer.Context,
    directory: DirOption = DEFAULT_DIR,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite rollback files edited by hand.")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", help="Only this migration (name or version).")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Write state-aware rollbacks: replay on a shadow PostgreSQL, fill MANUAL items "
            "from the schema before each migration, and prove each rollback.",
        ),
    ] = False,
    shadow_url: ShadowOption = None,
    pg_major: PgMajorOption = None,
    allow_other_major: AllowOtherMajorOption = False,
    exact_column_order: ExactColumnOrderOption = False,
    jobs: JobsOption = None,
    allow_shared_effects: AllowSharedEffectsOption = False,
) -> None:
    """Write <migration>_rollback.sql and <migration>_rollback.md beside each migration.

    Statements whose inverse needs a human are written as '-- MANUAL:' lines. Files edited by
    hand are kept unless --force. Exit code 1 when a migration does not parse.
    """
    from migration_rollback.project.generation import Outcome, generate_one

    problem = verify_only_problem(ctx, verify)
    if problem:
        raise fail("generate", problem)
    if verify:
        check_shadow_url(shadow_url)
        stop_cleanly_on_signals()

    loaded = load_project(directory, "parsing")
    selected = select(loaded, only)
    # The shadow replays every migration (the state before each one), whatever --only says.
    bodies: dict[str, str] = {}
    if verify:
        major = shadow_requirement(directory, pg_major, allow_other_major)
        bodies = state_aware_bodies(
            loaded, shadow_url, major, exact_column_order, jobs,
            allow_shared_effects=allow_shared_effects,
        )  # fmt: skip
    failed = 0
    for item in selected:
        result = generate_one(item, force=force, body=bodies.get(item.migration.name))
        if result.outcome is Outcome.FAILED:
            failed += 1
            console.print(f"[red]✗[/red] {escape_name(result.migration)}: {escape(result.message)}")
            continue
        _print_result(result)
        for note in _notes(item):
            console.print(f"  [yellow]![/yellow] {escape(note)}")
    if failed:
        raise typer.Exit(1)


def select(loaded: list[LoadedMigration], only: str | None) -> list[LoadedMigration]:
    """`--only`: the migration by name, version or file name; naming none is an error."""
    if only is None:
        return loaded
    wanted = only.removesuffix(".sql")
    chosen = [i for i in loaded if wanted in (i.migration.name, i.migration.version)]
    if not chosen:
        latest = ", ".join(i.migration.name for i in loaded[-3:])
        console.print(error_markup(f"--only {only!r}: no such migration (latest: {latest})"))
        raise typer.Exit(2)
    return chosen


def _print_result(result: GenerateResult) -> None:
    from migration_rollback.project.generation import Outcome

    extras = []
    if result.manual_items:
        extras.append(f"{result.manual_items} manual")
    if result.destroys_data:
        extras.append("data loss")
    suffix = f" ({', '.join(extras)})" if extras else ""
    mark = "[yellow]![/yellow]" if result.outcome is Outcome.KEPT_HAND_EDITED else "✓"
    console.print(
        f"{mark} {escape_name(result.migration)}: {result.outcome}{suffix} {escape(result.message)}"
    )


def _notes(item: LoadedMigration) -> list[str]:
    """What the engine could not analyse in this file: one line each, with file:line."""
    from migration_rollback.project.workspace import meta_command_notes

    duplicate = item.migration.duplicate
    warning = [str(duplicate)] if duplicate is not None else []
    warning += [item.source.warning] if item.source.warning else []
    return warning + meta_command_notes(item)


def state_aware_bodies(
    loaded: list[LoadedMigration],
    shadow_url: str | None,
    major: MajorRequirement | None = None,
    exact_column_order: bool = False,
    jobs: int | None = None,
    *,
    allow_shared_effects: bool = False,
) -> dict[str, str]:
    """Rollback bodies proven on a shadow database (the static ones where it could not)."""
    from migration_rollback.verify import MigrationPair, generate_verified

    # An unreadable file (a pipe, a directory...) is already reported; the shadow skips it.
    pairs = [MigrationPair(i.migration.name, i.migration.path) for i in loaded if i.usable]
    refuse_shared_effects(pairs, shadow_url, allow_shared_effects, rollbacks=False)
    try:
        with progress_bar(len(pairs), "verifying") as bar:
            generated = generate_verified(
                pairs,
                shadow_url,
                progress=lambda n: advance(bar, n),
                major=major,
                strict_column_order=exact_column_order,
                jobs=jobs,
                project=made_names(loaded),
            )
    except DatabaseUnavailableError as exc:
        console.print(error_markup(f"shadow database: {exc}"))
        raise typer.Exit(2) from None
    bodies: dict[str, str] = {}
    for g in generated:
        console.print(
            f"  {g.result.status:15} {escape_name(g.migration)}{escape(g.result.order_note)} "
            f"({len(g.filled)} filled from the shadow state)"
            f"{escape(major_label(g.result))}"
        )
        if g.sql_body is not None:
            bodies[g.migration] = g.sql_body
    return bodies
