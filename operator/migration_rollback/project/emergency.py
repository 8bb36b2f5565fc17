"""`emergency`: a project-specific incident plan for the moment a migration breaks production."""

from __future__ import annotations

from datetime import datetime

from migration_rollback.project.docs import execute_commands, manifest_block
from migration_rollback.project.manifests import manifest_problem, resource_name
from migration_rollback.project.markdown import code, fenced, shell
from migration_rollback.project.validation import MigrationReport, Status
from migration_rollback.project.workspace import LoadedMigration
from migration_rollback.shown import shown
from migration_rollback.url_env import DATABASE_URL_ENV

_STATE = {
    Status.VALID: "automatic",
    Status.MANUAL: "needs a human first",
    Status.INVALID: "INVALID: fix before use",
    Status.MISSING: "MISSING: run generate",
    Status.STALE: "STALE: regenerate",
}

PLAN_HEADING = "# Emergency rollback plan"  # its first line: what `--output` may overwrite

# Warnings that change what the plan's commands mean, shown with the errors and MANUAL items.
_SHOWN_WARNINGS = frozenset({"DUPLICATE_VERSION"})


def render_emergency_plan(
    loaded: list[LoadedMigration],
    reports: list[MigrationReport],
    *,
    generated_at: datetime,
    latest: int = 5,
) -> str:
    pairs = list(zip(loaded, reports, strict=True))[-latest:][::-1]
    out = [
        PLAN_HEADING,
        "",
        f"Generated {generated_at.isoformat(timespec='seconds')} by `migration-rollback "
        "emergency` from this project's migrations. Regenerate it after every migration.",
        "",
        "## The latest migrations",
        "",
        "| Migration | Rollback | Manual items | Data loss |",
        "|---|---|---|---|",
    ]
    for item, report in pairs:
        out.append(
            f"| {_cell(item.migration.name)} | {_state(item, report)} | {report.manual_items} | "
            f"{'yes' if report.destroys_data else 'no'} |"
        )
    out += _phases(pairs[0][0].migration.name if pairs else None)
    out += ["", "## Per migration", ""]
    for item, report in pairs:
        out += _migration_section(item, report)
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    """A table cell: a `|` in a file name would split it."""
    return _name(text).replace("|", "\\|")


def _name(text: str) -> str:
    return code(_escaped(text))


def _escaped(text: str) -> str:
    """A name or message as it may stand in a table row, a heading or a list item."""
    return shown(text)


def _state(item: LoadedMigration, report: MigrationReport) -> str:
    shared = item.migration.duplicate is not None
    return _STATE[report.status] + ("; version shared by other files" if shared else "")


def _phases(newest: str | None) -> list[str]:
    watch = (
        f"watch {code(shell('kubectl', 'get', 'mrb', resource_name(newest), '-w'))}"
        if newest is not None and manifest_problem(newest) is None
        else "watch `kubectl get mrb -w`"
    )
    return [
        "",
        "## Response phases",
        "",
        "1. **Stop traffic (0–5 min).** On Kubernetes the `MigrationRollback` resource does "
        f"phases 1, 2, 3, 5 and 6 for you, in order, and records each step: apply it and {watch}. "
        "By hand: "
        "`kubectl scale deployment/<app> --replicas=0` (note the current count first: "
        "`kubectl get deploy <app> -o jsonpath='{.spec.replicas}'`). Pause Argo CD self-heal "
        "or HPAs that would scale it back.",
        "2. **Maintenance mode.** Turn on the app's maintenance switch so users see a page, "
        "not errors.",
        '3. **Backup.** `pg_dump -Fc "$DATABASE_URL" -f emergency_$(date +%s).dump` — or let '
        "`execute --backup pg-dump` do it and verify it.",
        "4. **Assess.** `migration-rollback validate` and the table above: is the rollback "
        "automatic, does it need a human, does it lose data? Read the migration's "
        "`_rollback.md`.",
        "5. **Roll back.** Rehearse with `--dry-run`, then run it for real (below). It runs "
        "in one transaction: it applies entirely or not at all.",
        "6. **Verify and restore.** Check the app's health endpoint, scale back to the noted "
        "replica count, turn maintenance off.",
        "7. **Record.** `execute --report incident.md` writes the incident report; the "
        "`migration_rollback.audit_log` table keeps every run.",
    ]


def _migration_section(item: LoadedMigration, report: MigrationReport) -> list[str]:
    name = item.migration.name
    sha = report.rollback_sha256
    flags = ["--expect-sha256", sha] if sha else []
    if report.destroys_data:
        flags.append("--allow-data-loss")
    lines = [f"### {_name(name)} — {_state(item, report)}", ""]
    for finding in report.findings:
        if finding.severity in ("error", "manual") or finding.code in _SHOWN_WARNINGS:
            where = f" (line {finding.line})" if finding.line else ""
            lines.append(f"- {finding.code}{where}: {_escaped(finding.message)}")
    commands = execute_commands(name, *flags, "--report", "incident.md")
    lines += [
        "",
        *fenced("bash", [f"export {DATABASE_URL_ENV}=...   # never on the command line",
                         *commands]),
        "",
        *manifest_block(name, sha, allow_data_loss=report.destroys_data),
        "",
    ]  # fmt: skip
    return lines
