"""The `<migration>_rollback.md` companion: what the rollback does and what a human must do."""

from __future__ import annotations

from migration_rollback.project.manifests import manifest_problem, rollback_manifest, to_yaml
from migration_rollback.project.markdown import code, fenced, shell
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.sql import RollbackPlan
from migration_rollback.url_env import DATABASE_URL_ENV

# How a rollback that rebuilds a table for its column order says so (verify's repair writes it
# as a comment; this document lists it beside the locks).
TABLE_REBUILD = (
    "so its columns come back in their order: ACCESS EXCLUSIVE lock while its rows are copied "
    "into a new table (the table is rewritten)"
)


def table_rebuilds(body: str) -> list[str]:
    """The tables a rollback body rebuilds for their column order (`--exact-column-order`)."""
    return [
        line.removeprefix("-- rebuilds ").removesuffix(" " + TABLE_REBUILD)
        for line in body.splitlines()
        if line.startswith("-- rebuilds ") and line.endswith(TABLE_REBUILD)
    ]


def execute_commands(name: str, *flags: str) -> list[str]:
    """The rehearsal and the real run, shell-quoted: a file name is not trusted text."""
    return [
        "# 1. rehearse: everything, then ROLLBACK",
        shell("migration-rollback", "execute", name, "--dry-run"),
        f"# 2. for real (the database URL comes from {DATABASE_URL_ENV})",
        shell("migration-rollback", "execute", name, "--backup", "pg-dump", "--backup-dir",
              "./backups", *flags),
    ]  # fmt: skip


def manifest_block(name: str, sha256: str | None, *, allow_data_loss: bool) -> list[str]:
    """A ready manifest, or the reason none can be written for this migration."""
    problem = manifest_problem(name)
    if problem:
        return [f"No MigrationRollback manifest for this migration: {problem}."]
    manifest = rollback_manifest(name, sha256, allow_data_loss=allow_data_loss)
    return fenced("yaml", to_yaml(manifest).rstrip().split("\n"))


def render_rollback_doc(
    plan: RollbackPlan,
    rollback_sha256: str,
    not_analysed: tuple[str, ...] = (),
    rebuilds: tuple[str, ...] = (),
) -> str:
    """The companion document; `not_analysed` lists what the engine could not see (psql
    meta-commands), each a manual item; `rebuilds` the tables rebuilt for column order."""
    name = plan.migration
    manual = plan.manual_items
    data_loss = [s for s in plan.steps if s.destroys_data and s.sql]
    locks = sorted({s.lock.label for s in plan.sql_steps if s.lock.blocks_writes})
    locks = sorted({*locks, "ACCESS EXCLUSIVE"}) if rebuilds else locks
    out = [
        f"# Rollback: {code(name)}",
        "",
        f"Source: {code(plan.source)} · rollback: {code(name + '_rollback.sql')} "
        f"(sha256 `{rollback_sha256}`)",
        "",
        "| | |",
        "|---|---|",
        f"| Automated statements | {len(plan.sql_steps)} |",
        f"| Manual items | {len(manual) + len(not_analysed)} |",
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
        # A step may hold a credential it needs to work (a function recreated from an earlier
        # migration's text): the rollback file runs it as verified, the report masks it.
        out.append(f"{number}. {code(sql_excerpt(step.sql or ''))}{flag} — undoes line {loc.line}")
    out += ["", "## Manual checklist", ""]
    if not manual and not not_analysed:
        out.append("Nothing: every statement has an automatic inverse.")
    for step, item in manual:
        out.append(f"- [ ] {item.reason} (line {step.forward.location.line}, {code(item.need)})")
    out += [f"- [ ] {code(note)}" for note in not_analysed]
    out += ["- [ ] Remove each `-- MANUAL:` line from the rollback once handled", ""]
    out += ["## Data loss", ""]
    if not data_loss:
        out.append("This rollback drops no table, column, schema or sequence.")
    for step in data_loss:
        notes = "; ".join(step.notes or ("destroys data",))
        out.append(f"- {code(sql_excerpt(step.sql or ''))}: {notes}")
    if data_loss:
        out += [
            "",
            "`execute` archives dropped tables and columns into `migration_rollback_archive` "
            "unless `--purge`, and refuses without `--allow-data-loss` and a verified backup.",
        ]
    out += ["", "## Locks", ""]
    out.append(
        "Takes " + ", ".join(locks) + ": run it with the application scaled down."
        if locks or rebuilds
        else "No lock that blocks writes."
    )
    out += [""] if rebuilds else []
    out += [
        f"- Rebuilds {table} so that its columns come back in their order (`--exact-column-"
        "order`): it holds an ACCESS EXCLUSIVE lock while every row is copied into a new table, "
        "and the table is rewritten (the old one is dropped; `execute` archives it)."
        for table in rebuilds
    ]
    out += [
        "",
        "## Emergency steps",
        "",
        *fenced("bash", execute_commands(name, *(["--allow-data-loss"] if data_loss else []))),
        "",
        "On Kubernetes, apply this resource and watch it with `kubectl get mrb -w`:",
        "",
        *manifest_block(name, rollback_sha256, allow_data_loss=bool(data_loss)),
        "",
        "## Related files",
        "",
        f"- {code(plan.source)}: the forward migration",
        f"- {code(name + '_rollback.sql')}: the rollback",
        "- `scripts/EMERGENCY_ROLLBACK_PLAN.md`: the project-wide incident plan",
        "",
    ]
    return "\n".join(out)
