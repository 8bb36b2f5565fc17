"""`migration-rollback validate`: check every rollback; exit 0 only when all can be trusted."""

from __future__ import annotations

import enum
import json
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
from migration_rollback.shown import shown_lines

if TYPE_CHECKING:
    # The engine (pglast) and the project layer are imported when the command runs.
    from migration_rollback.project.validation import MigrationReport
    from migration_rollback.project.workspace import LoadedMigration
    from migration_rollback.verify import MigrationPair, VerifyResult
    from migration_rollback.verify.majors import MajorRequirement


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


# By Status value ("valid", ...): Status is a StrEnum, imported when the command runs.
_COLOR = {
    "valid": "green",
    "manual": "yellow",
    "invalid": "red",
    "missing": "red",
    "stale": "red",
}


@app.command("validate")
def validate(
    ctx: typer.Context,
    directory: DirOption = DEFAULT_DIR,
    output: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.TEXT,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Also prove each rollback on a shadow PostgreSQL: replay every migration, "
            "apply forward + rollback, compare the catalogs.",
        ),
    ] = False,
    shadow_url: ShadowOption = None,
    pg_major: PgMajorOption = None,
    allow_other_major: AllowOtherMajorOption = False,
    exact_column_order: ExactColumnOrderOption = False,
    jobs: JobsOption = None,
    allow_shared_effects: AllowSharedEffectsOption = False,
) -> None:
    """Check that each rollback exists, parses, covers the migration, runs in a sound order and
    is current; report data-loss and lock hazards.

    With --verify, each rollback is also run on a shadow database (--shadow-url, or a throwaway
    local cluster) and reported as verified, manual or mismatch with the exact differences
    (manual also when the schema differs only where the generated rollback's MANUAL items
    leave the step to a human).

    Exit 0 only when no rollback is invalid, missing, stale or (with --verify) mismatched
    ('manual' still passes: the items are listed for a human).
    """
    from migration_rollback.project.validation import validate_all

    problem = verify_only_problem(ctx, verify)
    if problem:
        raise fail("validate", problem)
    if verify:
        check_shadow_url(shadow_url)
        stop_cleanly_on_signals()

    # As generate does: a file that is not read as a migration is named, never skipped mutely.
    loaded = load_project(directory, "validating")
    reports = validate_all(loaded)
    proofs: dict[str, VerifyResult] = {}
    if verify:
        major = shadow_requirement(directory, pg_major, allow_other_major)
        texts = {r.migration: r.rollback_text for r in reports}
        proofs = {
            r.migration: r
            for r in run_shadow(
                loaded,
                shadow_url,
                output,
                major,
                exact_column_order,
                jobs,
                texts,
                allow_shared_effects=allow_shared_effects,
            )
        }
    if output is Format.JSON:
        print(json.dumps(_json(reports, proofs), indent=2))
    else:
        _print_text(reports, proofs)
    if any(r.status.blocks for r in reports) or any(p.status in FAILING for p in proofs.values()):
        raise typer.Exit(1)


FAILING = frozenset({"mismatch", "rollback_failed", "forward_failed"})


def run_shadow(
    loaded: list[LoadedMigration],
    shadow_url: str | None,
    output: Format,
    major: MajorRequirement | None = None,
    exact_column_order: bool = False,
    jobs: int | None = None,
    texts: dict[str, str | None] | None = None,
    *,
    allow_shared_effects: bool = False,
) -> list[VerifyResult]:
    from migration_rollback.verify import verify_project

    _url_notes(shadow_url)
    # Unreadable files (a pipe, a directory...) are already reported; the shadow skips them.
    pairs = [_pair(item, texts) for item in loaded if item.usable]
    refuse_shared_effects(pairs, shadow_url, allow_shared_effects, rollbacks=True)
    try:
        with progress_bar(len(pairs), "verifying") as bar:
            return verify_project(
                pairs,
                shadow_url,
                progress=lambda name: advance(bar, name),
                major=major,
                strict_column_order=exact_column_order,
                jobs=jobs,
                project=made_names(loaded),
            )
    except DatabaseUnavailableError as exc:
        console.print(error_markup(f"shadow database: {exc}"))
        raise typer.Exit(2) from None


def _pair(item: LoadedMigration, texts: dict[str, str | None] | None) -> MigrationPair:
    """The shadow's pair: with the rollback text validation judged (read once, so what is
    verified is what was validated), or the file when validation did not read it."""
    from migration_rollback.verify import MigrationPair

    name, plan = item.migration.name, item.plan  # plan: its MANUAL items' targets
    text = (texts or {}).get(name)
    if text is None:
        return MigrationPair(name, item.migration.path, item.usable_rollback, plan=plan)
    return MigrationPair(name, item.migration.path, item.migration.rollback_path, text, plan)


def _url_notes(shadow_url: str | None) -> None:
    """What parsing --shadow-url dropped (a trailing newline), said on stderr (JSON stays clean);
    an invalid URL is reported by the verification itself."""
    from migration_rollback.conninfo import InvalidDatabaseUrlError, parse_database_url
    from migration_rollback.verify.shadow import SHADOW_WHERE

    if shadow_url is None:
        return
    try:
        notes = parse_database_url(shadow_url, where=SHADOW_WHERE).notes
    except InvalidDatabaseUrlError:
        return
    for note in notes:
        typer.echo(note, err=True)


def _json(reports: list[MigrationReport], proofs: dict[str, VerifyResult]) -> dict[str, object]:
    from migration_rollback.project.validation import Status

    counts = {str(s): sum(1 for r in reports if r.status is s) for s in Status}
    migrations = []
    for report in reports:
        doc = report.to_json()
        if report.migration in proofs:
            doc["verification"] = proofs[report.migration].to_json()
            if _schema_only(report, proofs[report.migration]):
                doc["verification"]["scope"] = SCHEMA_ONLY
        migrations.append(doc)
    blocked = any(p.status in FAILING for p in proofs.values())
    out: dict[str, object] = {
        "ok": not any(r.status.blocks for r in reports) and not blocked,
        "summary": counts,
        "migrations": migrations,
    }
    if proofs:  # --verify: the verdicts by status, the failed forwards by cause
        from migration_rollback.verify.tally import tally

        out["verification_summary"] = tally(list(proofs.values()))
    return out


SCHEMA_ONLY = "schema only"


def _schema_only(report: MigrationReport, proof: VerifyResult) -> bool:
    """A rollback destroying data its migration never made was proven on catalogs only: its
    "verified" must not read as a proof of the data (finding A3)."""
    return proof.status == "verified" and any(f.code == "UNRELATED" for f in report.findings)


def _verdict(report: MigrationReport, proof: VerifyResult) -> str:
    scope = f" ({SCHEMA_ONLY})" if _schema_only(report, proof) else ""
    color = "yellow" if scope else _proof_color(proof.status)
    return f"  [{color}]{escape(proof.verdict)}{scope}[/]{escape(major_label(proof))}"


def _proof_color(status: str) -> str:
    return "green" if status == "verified" else "yellow" if status == "manual" else "red"


def _print_text(reports: list[MigrationReport], proofs: dict[str, VerifyResult]) -> None:
    from migration_rollback.project.validation import Status

    for report in reports:
        color = _COLOR[report.status]
        proof = proofs.get(report.migration)
        # The verdict names the stand-ins it relied on: "verified (stand-ins: …)".
        verdict = _verdict(report, proof) if proof else ""
        console.print(
            f"[{color}]{report.status:8}[/{color}] {escape_name(report.migration)}{verdict}"
        )
        if proof is not None and proof.status != "verified":
            console.print(shown_lines(proof.report()), markup=False, soft_wrap=True)
        for f in report.grouped_findings:  # one line per object: `file: lines 2, 9: ...`
            line = f"           {f.severity}: {f.code}: {f.where}{f.message}"
            # Not markup; a file name's control or BiDi characters escaped.
            console.print(shown_lines(line), markup=False, soft_wrap=True)
    counts = ", ".join(
        f"{sum(1 for r in reports if r.status is s)} {s}"
        for s in Status
        if any(r.status is s for r in reports)
    )
    console.print(f"{len(reports)} migrations: {counts or 'none'}")
    if proofs:  # --verify: the verdicts, and why forwards failed, counted
        from migration_rollback.verify.tally import tally_lines

        console.print("\n".join(tally_lines(list(proofs.values()))), markup=False)
