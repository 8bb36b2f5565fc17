"""The `<migration>_rollback.md` companion: what the rollback does and what a human must do."""

from __future__ import annotations

from migration_rollback.project.manifests import rollback_manifest, to_yaml
from migration_rollback.sql import RollbackPlan


def render_rollback_doc(plan: RollbackPlan, rollback_sha256: str) -> str:
    name = plan.migration
    manual = plan.manual_items
    data_loss = [s for s in plan.steps if s.destroys_data and s.sql]
    locks = sorted({s.lock.label for s in plan.sql_steps if s.lock.blocks_writes})
    out = [
        f"# Rollback: {name}",
        "",
        f"Source: `{plan.source}` · rollback: `{name}_rollback.sql` (sha256 `{rollback_sha256}`)",
        "",
        "| | |",
        "|---|---|",
        f"| Automated statements | {len(plan.sql_steps)} |",
        f"| Manual items | {len(manual)} |",
        f"| Destroys data | {'yes' if data_loss else 'no'} |",
        f"| Strongest lock | {plan.max_lock.label} |",
        f"| Outside the transaction | {len(plan.non_transactional)} |",
        "",
        "## Automated steps",
        "",
    ]
    if not plan.sql_steps:
        out.append("None: this migration has nothing that can be undone automatically.")
    for number, step in enumerate(plan.sql_steps, start=1):
        loc = step.forward.location
        flag = "" if step.transactional else " (runs after the transaction commits)"
        out.append(f"{number}. `{step.sql}`{flag} — undoes line {loc.line}")
    out += ["", "## Manual checklist", ""]
    if not manual:
        out.append("Nothing: every statement has an automatic inverse.")
    for step, item in manual:
        out.append(f"- [ ] {item.reason} (line {step.forward.location.line}, `{item.need}`)")
    out += ["- [ ] Remove each `-- MANUAL:` line from the rollback once handled", ""]
    out += ["## Data loss", ""]
    if not data_loss:
        out.append("This rollback drops no table, column, schema or sequence.")
    for step in data_loss:
        out.append(f"- `{step.sql}`: " + "; ".join(step.notes or ("destroys data",)))
    if data_loss:
        out += [
            "",
            "`execute` archives dropped tables and columns into `migration_rollback_archive` "
            "unless `--purge`, and refuses without `--allow-data-loss` and a verified backup.",
        ]
    out += ["", "## Locks", ""]
    out.append(
        "Takes " + ", ".join(locks) + ": run it with the application scaled down."
        if locks
        else "No lock that blocks writes."
    )
    out += [
        "",
        "## Emergency steps",
        "",
        "```bash",
        "# 1. rehearse: everything, then ROLLBACK",
        f"migration-rollback execute {name} --dry-run",
        "# 2. for real (the database URL comes from MIGRATION_ROLLBACK_DATABASE_URL)",
        f"migration-rollback execute {name} --backup pg-dump --backup-dir ./backups"
        + (" --allow-data-loss" if data_loss else ""),
        "```",
        "",
        "On Kubernetes, apply this resource and watch it with `kubectl get mrb -w`:",
        "",
        "```yaml",
        to_yaml(rollback_manifest(name, rollback_sha256, allow_data_loss=bool(data_loss))).rstrip(),
        "```",
        "",
        "## Related files",
        "",
        f"- `{plan.source}`: the forward migration",
        f"- `{name}_rollback.sql`: the rollback",
        "- `scripts/EMERGENCY_ROLLBACK_PLAN.md`: the project-wide incident plan",
        "",
    ]
    return "\n".join(out)
