"""Human-readable renderings of a run: the stdout summary and the Markdown incident report.

The summary is what someone watching the Job's logs reads; the report is what goes into the
incident ticket afterwards: what was asked, what happened at each step, what was archived and
how to get it back, and what to do next given how the run ended. Pure text from a `RunResult`.

Archives, restore SQL and data loss are shown as facts only when the transaction committed;
after a ROLLBACK (a failure or a dry run) they are listed as undone, and the report says that
nothing was changed.
"""

from __future__ import annotations

from migration_rollback.runner.result import Outcome, RunResult
from migration_rollback.shown import shown, shown_lines

_NEXT_STEPS: dict[str, str] = {
    "OK": "Verify the application's health checks, then scale it back up.",
    "PRECONDITION_FAILED": "Nothing was changed. Fix what the error names and run again.",
    "LOCK_TIMEOUT": "Nothing was changed. Another rollback or a long transaction holds a lock: "
    "find it in pg_stat_activity, then retry.",
    "SQL_ERROR": "Nothing was changed (the transaction was rolled back). Fix the statement named "
    "below in the rollback file, review, and run again.",
    "BACKUP_FAILED": "Nothing was changed. Fix the backup (space, permissions, pg_dump version) "
    "and run again.",
    "CONNECTION_FAILED": "Nothing was changed. Check the database URL, network and credentials.",
    "CONNECTION_LOST": "Nothing was changed: the server ended the session before COMMIT. Check "
    "the server, then retry.",
    "STATEMENT_TIMEOUT": "Nothing was changed. A statement ran too long: raise "
    "--statement-timeout or make the statement cheaper.",
    "POST_CHECK_FAILED": "Nothing was changed: the checks before COMMIT failed and the "
    "transaction was rolled back. Read the error.",
    "COMMIT_UNKNOWN": "Unknown whether the rollback committed. Check the history table for the "
    "migration version(s) before doing anything else.",
    "DEFERRED_FAILED": "The rollback committed, but a statement that runs outside the "
    "transaction failed: run the listed deferred statements by hand (they are idempotent).",
    "TRANSACTION_CONFLICT": "Nothing was changed. The server aborted the transaction to break "
    "a deadlock with another session (or a serialization conflict): run again; if it repeats, "
    "find that session in pg_stat_activity.",
    "INTERNAL_ERROR": "Nothing was committed. This is a bug in migration-rollback: keep this "
    "report and the JSON log.",
}


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        # `shown`: a line break in a name (a table called "a\nb") would end the row, and a
        # space in its place made it read as another name; escaped, it reads as what it is.
        return shown(text).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return lines


def _items(texts: list[str]) -> list[str]:
    """A Markdown list, one line an item whatever the names in it hold."""
    return [f"- {shown(text)}" for text in texts]


def _code(text: str) -> str:
    """A code span its text cannot end: fenced with one backtick more than its longest run."""
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(text: str) -> list[str]:
    """A fenced block its text cannot close (a line of ``` in an error message)."""
    ticks = "`" * max(3, _longest_run(text, "`") + 1)
    return [ticks, shown_lines(text), ticks]


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest


def _rows(value: int | None, exact: bool = True) -> str:
    if value is None:
        return "?"
    return f"{value:,}" if exact else f"~{value:,}"


def headline(result: RunResult) -> str:
    mode = "dry run" if result.dry_run else "rollback"
    if result.outcome is Outcome.SUCCEEDED:
        return f"rollback of {result.target} committed"
    if result.outcome is Outcome.DRY_RUN_SUCCEEDED:
        return f"dry run of {result.target} passed; nothing was changed"
    if result.outcome is Outcome.COMMITTED_WITH_ERRORS:
        return f"rollback of {result.target} committed, with deferred statements failing"
    if result.outcome is Outcome.UNKNOWN:
        return f"{mode} of {result.target}: outcome unknown"
    return f"{mode} of {result.target} failed; nothing was changed"


def render_summary(result: RunResult) -> str:
    """A few lines for stdout: the outcome, what was (or would be) done, and the error."""
    lines = [f"migration-rollback: {shown(headline(result))}"]
    lines.append(
        f"  exit {int(result.exit_code)} ({result.exit_code.name})"
        + (", retryable" if result.retryable else "")
        + (f", {result.duration_ms} ms" if result.duration_ms is not None else "")
    )
    if result.migrations:
        lines.append(f"  migrations: {', '.join(result.migrations)} (newest first)")
    if result.impact:
        lines.append("  impact:")
        for item in result.impact:
            where = "" if item.exists else " (absent)"
            lines.append(
                f"    [{item.statement}] {shown(item.object)}{where}: {item.action}, "
                f"rows {_rows(item.rows, item.rows_exact)}, lock {item.lock}"
            )
    if result.backup:
        b = result.backup
        state = "verified" if b.verified else "not taken"
        lines.append(
            f"  backup: {b.mode} {b.path or ''} ({state}){' - ' + b.note if b.note else ''}"
        )
    done = [s for s in result.statements if s.status == "done"]
    if result.statements:
        lines.append(
            f"  statements: {len(done)}/{len(result.statements)} executed in the transaction"
        )
    for s in result.statements:
        if s.status == "failed":
            lines.append(f"    failed [{s.number}] {shown(s.location)}: {shown(s.sql)}")
        if s.status == "kept":
            lines.append(f"    kept [{s.number}] {shown(s.location)}: {shown(s.sql)}: {s.note}")
    for d in result.deferred:
        lines.append(f"  after commit [{d.number}] {d.status}: {shown(d.sql)}")
    lines += _summary_changes(result)
    lines += [f"  data: {_restore_line(entry)}" for entry in result.restore]
    lines += [f"  note: {shown(note)}" for note in [*result.notes, *_source_notes(result)]]
    lines += [f"  warning: {shown(warning)}" for warning in result.warnings]
    if result.error:
        # A driver's DETAIL lines are its own, indented under it: none reads as a line of ours.
        message = shown_lines(result.error.message).replace("\n", "\n    ")
        lines.append(f"  error: {result.error.error_class}: {message}")
    return "\n".join(lines) + "\n"


def _source_notes(result: RunResult) -> list[str]:
    return [
        f"source check skipped: {path} is not there, so the rollback's Source-SHA256 (that the "
        "migration is still the one it was generated from) was not checked"
        for path in result.unchecked_sources
    ]


def _summary_changes(result: RunResult) -> list[str]:
    kept = result.changes_kept
    if kept is False:
        undone = [f"  undone by the ROLLBACK: {shown(item)}" for item in result.rolled_back]
        return [f"  database: {_UNCHANGED}", *undone] if result.statements else undone
    prefix = "" if kept else "if the commit went through: "
    lines = [
        f"  {prefix}archived {a.kind} {shown(a.source)} -> {shown(a.archive)} "
        f"({_rows(a.rows)} rows)"
        for a in result.archived
    ]
    lines += [f"  {prefix}note: {shown(note)}" for note in result.dependents]
    lines += [f"  {prefix}data destroyed (allowed): {shown(lost)}" for lost in result.data_loss]
    return lines


_UNCHANGED = "unchanged: the transaction was rolled back, nothing was changed or archived"


def _restore_line(entry: dict[str, object]) -> str:
    """One object of the data restore: what happens to it, rows written since, conflicts."""
    parts = [f"[{entry.get('version')}:{entry.get('statement')}] {shown(str(entry.get('object')))}"]
    parts.append(str(entry.get("action")))
    for key in ("captured_rows", "rows_written_since", "conflicts", "restored", "note"):
        if entry.get(key) is not None:
            parts.append(f"{key.replace('_', ' ')}: {entry[key]}")
    return ", ".join(parts)


def _changed(result: RunResult) -> str:
    kept = result.changes_kept
    if kept:
        return "yes (committed)"
    if kept is None:
        return "unknown: the connection broke during COMMIT; check the history table"
    return "no: the transaction was rolled back" if result.statements else "no"


def _rows_fact(result: RunResult) -> str:
    if result.changes_kept is not False or not result.rows_in_transaction:
        return f"{result.rows_affected:,}"
    return f"0 ({result.rows_in_transaction:,} in the transaction, rolled back)"


def render_report(result: RunResult) -> str:
    """The Markdown incident report."""
    out: list[str] = [f"# Migration rollback: {shown(result.target)}", ""]
    out.append(f"**{shown(headline(result))}**")
    out.append("")
    facts = [
        ["Outcome", str(result.outcome)],
        ["Exit code", f"{int(result.exit_code)} ({result.exit_code.name})"],
        ["Committed", "yes" if result.committed else "no"],
        ["Database changed", _changed(result)],
        ["Dry run", "yes" if result.dry_run else "no"],
        ["Migrations", ", ".join(result.migrations) or "-"],
        ["Database", result.database],
        ["Started", result.started_at.isoformat()],
        ["Finished", result.finished_at.isoformat() if result.finished_at else "-"],
        ["Duration", f"{result.duration_ms} ms" if result.duration_ms is not None else "-"],
        ["Rows affected", _rows_fact(result)],
    ]
    facts += [[f"SHA-256 {version}", digest] for version, digest in result.sha256.items()]
    out += _table(["", ""], facts)
    out += ["", "## Next steps", "", _NEXT_STEPS.get(result.exit_code.name, ""), ""]
    if result.error:
        e = result.error
        out += [
            "## Error",
            "",
            f"`{e.error_class}`" + (f" (SQLSTATE {e.sqlstate})" if e.sqlstate else ""),
        ]
        if e.statement is not None:
            where = f" ({shown(e.location)})" if e.location else ""
            out.append(f"at statement {e.statement}{where}")
        out += ["", *_fence(e.message), ""]
    out += ["## Steps", ""]
    out += _table(
        ["Step", "Outcome", "ms", "Detail"],
        [[s.step, s.outcome, str(s.duration_ms), s.detail or ""] for s in result.steps],
    )
    if result.impact:
        out += ["", "## Impact", ""]
        out += _table(
            ["#", "Object", "Action", "Rows", "Lock", "Note"],
            [
                [
                    str(i.statement),
                    i.object + ("" if i.exists else " (absent)"),
                    i.action,
                    _rows(i.rows, i.rows_exact),
                    i.lock,
                    i.note or "",
                ]
                for i in result.impact
            ],
        )
    if result.backup:
        b = result.backup
        out += ["", "## Backup", ""]
        out += _table(
            ["Mode", "Path", "Size", "Verified", "Entries", "Note"],
            [
                [
                    b.mode,
                    b.path or "-",
                    _rows(b.size_bytes) + " bytes" if b.size_bytes is not None else "-",
                    "yes" if b.verified else "no",
                    str(b.entries) if b.entries is not None else "-",
                    b.note or "",
                ]
            ],
        )
    if result.statements or result.deferred:
        out += ["", "## Statements", ""]
        if result.changes_kept is False and result.statements:
            out += ["Run inside the transaction, which was rolled back: none of it was kept.", ""]
        out += _table(
            ["#", "Migration", "Where", "Action", "Status", "Result", "ms", "SQL"],
            [
                [
                    str(s.number),
                    s.version,
                    s.location,
                    s.action,
                    s.status,
                    (s.command or s.note or "") + (f" ({s.error})" if s.error else ""),
                    str(s.duration_ms) if s.duration_ms is not None else "",
                    _code(s.sql),
                ]
                for s in [*result.statements, *result.deferred]
            ],
        )
    out += _report_changes(result)
    if result.notes or result.unchecked_sources:
        out += ["", "## Notes", ""]
        out += _items([*result.notes, *_source_notes(result)])
    if result.warnings:
        out += ["", "## Warnings", ""]
        out += _items(result.warnings)
    out += ["", f"_migration-rollback {result.tool_version}_", ""]
    return "\n".join(out)


def _report_changes(result: RunResult) -> list[str]:
    """Archives, related objects and data loss: facts if committed, undone if rolled back."""
    kept = result.changes_kept
    if kept is False:
        if not result.statements:
            return []
        undone = ["", "## Changes", "", f"None: the database is {_UNCHANGED}."]
        if result.rolled_back:
            undone += ["", "The transaction did this before it was rolled back (not kept):", ""]
            undone += _items(result.rolled_back)
        return undone
    out: list[str] = []
    if result.archived:
        title = "## Archived data" + ("" if kept else " (only if the commit went through)")
        out += ["", title, "", "Nothing was dropped; it was set aside:", ""]
        out += _table(
            ["Kind", "From", "Archive", "Rows", "Key"],
            [
                [a.kind, a.source, a.archive, _rows(a.rows), ", ".join(a.key_columns) or "-"]
                for a in result.archived
            ],
        )
        # Runnable as written (a quoted name keeps its line break): only the fence is sized.
        hints = "\n".join(a.restore_hint for a in result.archived if a.restore_hint)
        ticks = "`" * max(3, _longest_run(hints, "`") + 1)
        out += ["", "To bring it back:", "", f"{ticks}sql", *([hints] if hints else []), ticks]
    if result.dependents:
        out += ["", "## Related objects", ""]
        out += _items(result.dependents)
    if result.data_loss:
        out += ["", "## Data destroyed (allowed with --allow-data-loss)", ""]
        out += _items(result.data_loss)
    if result.restore:
        out += ["", "## Data restored from captures (apply)", ""]
        out += _items([_restore_line(entry) for entry in result.restore])
    return out
