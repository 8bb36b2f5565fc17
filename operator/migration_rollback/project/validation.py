"""`validate`: for every migration, is its rollback present, current, complete and safe?

Findings are kept one per statement (the status and the emergency plan count them), and shown
grouped: the same finding about the same object in the same file is one line listing its lines.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.errors import SourceFileError, SqlSyntaxError
from migration_rollback.project.artifacts import split_file
from migration_rollback.project.migrations import read_source
from migration_rollback.project.workspace import (
    LoadedMigration,
    forward_findings,
    paused_gc,
    rollback_findings,
)
from migration_rollback.sql import Script, parse_script
from migration_rollback.sql.checks import (
    Finding,
    NameIndex,
    Severity,
    coverage_findings,
    created_names,
    dropped_names,
    hazard_findings,
    later_dependents,
    manual_findings,
    name_index,
    order_findings,
    platform_findings,
    session_findings,
    unrelated_findings,
)


class Status(enum.StrEnum):
    VALID = "valid"
    MANUAL = "manual"
    INVALID = "invalid"
    MISSING = "missing"
    STALE = "stale"

    @property
    def blocks(self) -> bool:
        return self in (Status.INVALID, Status.MISSING, Status.STALE)


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """Findings with the same code, severity, file and message: one object, several lines."""

    code: str
    severity: Severity
    message: str
    file: str | None
    lines: tuple[int, ...]
    count: int

    @property
    def where(self) -> str:
        """`file:12: `, `file: lines 12, 30, 41: `, `file: ` or nothing."""
        if not self.file:
            return ""
        if len(self.lines) == 1:
            return f"{self.file}:{self.lines[0]}: "
        if self.lines:
            return f"{self.file}: lines {', '.join(map(str, self.lines))}: "
        return f"{self.file}: "

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "line": self.lines[0] if self.lines else None,
            "file": self.file,
            "count": self.count,
            "lines": list(self.lines),
            "locations": [{"file": self.file, "line": line} for line in self.lines],
        }


def group_findings(findings: Iterable[Finding]) -> list[FindingGroup]:
    """One group per (code, severity, file, message), in order of first appearance."""
    groups: dict[tuple[str, str, str | None, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.code, f.severity, f.file, f.message), []).append(f)
    return [
        FindingGroup(
            code=members[0].code,
            severity=members[0].severity,
            message=members[0].message,
            file=members[0].file,
            lines=tuple(sorted({m.line for m in members if m.line is not None})),
            count=len(members),
        )
        for members in groups.values()
    ]


@dataclass
class MigrationReport:
    migration: str
    status: Status
    findings: list[Finding] = field(default_factory=list)
    rollback_file: str | None = None
    destroys_data: bool = False
    manual_items: int = 0
    statements: int = 0
    # The sha256 of the bytes judged here: `emergency` pins these, not a second read's.
    rollback_sha256: str | None = field(default=None, compare=False)
    # And their text: `validate --verify` runs on the shadow what was judged here.
    rollback_text: str | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "status": str(self.status),
            "rollback_file": self.rollback_file,
            "statements": self.statements,
            "manual_items": self.manual_items,
            "destroys_data": self.destroys_data,
            "findings": [g.to_json() for g in self.grouped_findings],
        }

    @property
    def grouped_findings(self) -> list[FindingGroup]:
        return group_findings(self.findings)


def validate_one(
    loaded: list[LoadedMigration], index: int, names: NameIndex | None = None
) -> MigrationReport:
    item = loaded[index]
    name = item.migration.name
    rollback_path = item.migration.rollback_path
    if item.error is not None:
        loc = item.error.location
        return MigrationReport(
            name,
            Status.INVALID,
            [
                Finding(
                    item.error_code, Severity.ERROR, item.error.message, loc.line or None, loc.file
                )
            ],
        )
    if not rollback_path.exists():
        return MigrationReport(
            name,
            Status.MISSING,
            [
                Finding(
                    "MISSING",
                    Severity.ERROR,
                    f"{rollback_path.name} not found: run `migration-rollback generate`",
                )
            ],
        )
    report = MigrationReport(name, Status.VALID, forward_findings(item), rollback_path.name)
    try:
        source = read_source(rollback_path)
    except SourceFileError as exc:
        report.findings.append(
            Finding(
                exc.code, Severity.ERROR, exc.message, exc.location.line or None, exc.location.file
            )
        )
        report.status = Status.INVALID
        return report
    report.rollback_sha256 = source.sha256
    report.rollback_text = source.text
    file = split_file(source.text)
    if source.warning:
        report.findings.append(Finding("ENCODING", Severity.WARNING, source.warning))
    report.findings += rollback_findings(source.text, rollback_path.name)
    assert item.script is not None
    assert item.plan is not None
    try:
        rollback = parse_script(source.text, rollback_path.name, known=_generated_trees(item))
    except SqlSyntaxError as exc:
        report.findings.append(
            Finding("SYNTAX", Severity.ERROR, exc.message, exc.location.line, rollback_path.name)
        )
        report.status = Status.INVALID
        return report
    report.statements = len(rollback.statements)
    if file.header is not None and file.header.source_sha256 not in ("", item.source.sha256):
        report.findings.append(
            Finding(
                "STALE",
                Severity.ERROR,
                f"{item.display_path} changed since the rollback was generated "
                f"(sha256 {file.header.source_sha256[:12]}… → {item.source.sha256[:12]}…): "
                "regenerate it or review it and update its Source-SHA256 line",
                2,
                rollback_path.name,
            )
        )
    report.findings += coverage_findings(item.plan, rollback, rollback_path.name)
    report.findings += order_findings(item.script, rollback, rollback_path.name)
    created = created_names(item.script)
    report.findings += hazard_findings(rollback, source.text, rollback_path.name, created)
    report.findings += unrelated_findings(item.script, rollback, source.text, rollback_path.name)
    report.findings += session_findings(rollback, rollback_path.name)
    report.findings += platform_findings(rollback, rollback_path.name)
    manual = manual_findings(source.text, rollback_path.name)
    report.findings += manual
    report.manual_items = len(manual)
    if names is None:
        names = name_index(i.script for i in loaded)
    report.findings += _later_dependent_findings(names, index, rollback)
    report.destroys_data = any(f.code == "DATA_LOSS" for f in report.findings)
    report.status = _status(report.findings)
    return report


def _generated_trees(item: LoadedMigration) -> dict[str, Any]:
    """The parse trees of the statements the generator wrote for this migration, by text.

    They were parsed once already (the generator's safety belt): a rollback that holds only
    those statements (it was generated, or reordered) is split, not parsed again.
    """
    assert item.plan is not None
    return {s.parsed.text: s.parsed.node for s in item.plan.steps if s.parsed is not None}


def _later_dependent_findings(names: NameIndex, index: int, rollback: Script) -> list[Finding]:
    # Located in the later migration, with a message naming only the object: the statements
    # of one later migration that use one dropped object then group into a single line.
    hits = later_dependents(dropped_names(rollback), names, index)
    return [
        Finding(
            "LATER_DEPENDENT",
            Severity.WARNING,
            f"a later migration uses {name}, which this rollback drops: roll back the later "
            "migration first (execute --to)",
            st.location.line,
            st.location.file,
        )
        for name, st in hits
    ]


def _status(findings: list[Finding]) -> Status:
    codes = {f.code for f in findings if f.severity == Severity.ERROR}
    if "STALE" in codes:
        return Status.STALE
    if codes:
        return Status.INVALID
    if any(f.severity == Severity.MANUAL for f in findings):
        return Status.MANUAL
    return Status.VALID


def validate_all(loaded: list[LoadedMigration]) -> list[MigrationReport]:
    with paused_gc():
        names = name_index(item.script for item in loaded)
        return [validate_one(loaded, i, names) for i in range(len(loaded))]
