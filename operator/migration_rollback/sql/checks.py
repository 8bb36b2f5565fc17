"""Static checks of a rollback against its forward migration: coverage, order, hazards.

Pure functions over parsed scripts. They answer the questions a reviewer asks before running a
rollback in production: does it undo everything the migration did, will it fail halfway on a
dependency, what data does it destroy, which locks does it take, what is left to a human?
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from migration_rollback.records import quick_init
from migration_rollback.sql import platform_grants
from migration_rollback.sql._ast import ast
from migration_rollback.sql.cascades import ALLOW_CASCADE_MARK, unmarked_cascades
from migration_rollback.sql.classify import classify
from migration_rollback.sql.drop_order import dropped_name, order_findings_data
from migration_rollback.sql.generator import RollbackPlan
from migration_rollback.sql.model import MANUAL_PREFIX, LockLevel, Script, Statement
from migration_rollback.sql.parse import split_comment_lines
from migration_rollback.sql.session_state import forward_findings, refusals
from migration_rollback.sql.touched import CoverageIndex, touched_names
from migration_rollback.sql.unrelated import (
    ALLOW_UNRELATED_MARK,
    forward_subjects,
    unrelated_targets,
)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    MANUAL = "manual"
    INFO = "info"


@quick_init
@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    line: int | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "line": self.line,
            "file": self.file,
        }


# --- the checks -------------------------------------------------------------------------------


def coverage_findings(plan: RollbackPlan, rollback: Script, rollback_file: str) -> list[Finding]:
    """Every inverse the generator would write must have a counterpart in the rollback."""
    findings: list[Finding] = []
    index = CoverageIndex(rollback.statements)
    for step in plan.sql_steps:
        expected = step.parsed
        if expected is None or index.covers(expected):
            continue
        loc = step.forward.location
        findings.append(
            Finding(
                "UNCOVERED",
                Severity.ERROR,
                f"{loc.file}:{loc.line} ({step.forward.first_line}) is not undone; expected "
                f"something like: {step.sql}",
                line=None,
                file=rollback_file,
            )
        )
    return findings


def order_findings(forward: Script, rollback: Script, rollback_file: str) -> list[Finding]:
    """A drop must come after the drops of everything that still depends on the dropped object
    (drop_order.py)."""
    return [
        Finding(
            "ORDER",
            Severity.ERROR,
            f"drops {needed} (line {first.location.line}) before {dependent} "
            f"(line {later.location.line}), which depends on it: this fails "
            "without CASCADE; drop dependents first",
            line=first.location.line,
            file=rollback_file,
        )
        for first, later, needed, dependent in order_findings_data(forward, rollback)
    ]


def hazard_findings(
    rollback: Script, text: str, rollback_file: str, created: set[str]
) -> list[Finding]:
    """Data loss, locks on existing tables, CASCADE, statements outside the transaction."""
    cascades = {st.index for st in unmarked_cascades(rollback, text)}
    findings: list[Finding] = []
    for st in rollback.statements:
        c = classify(st)
        line = st.location.line
        if st.index in cascades:
            findings.append(
                Finding(
                    "CASCADE",
                    Severity.ERROR,
                    f"CASCADE silently drops whatever depends on it (maybe objects of later "
                    f"migrations): drop dependents explicitly, or add '{ALLOW_CASCADE_MARK}'",
                    line,
                    rollback_file,
                )
            )
        if c.destroys_data:
            what = ", ".join(t.describe() for t in c.targets) or st.first_line
            findings.append(
                Finding(
                    "DATA_LOSS", Severity.WARNING, f"destroys data: {what}", line, rollback_file
                )
            )
        existing = [t for t in c.targets if t.kind == "table" and t.name.lower() not in created]
        if c.lock >= LockLevel.SHARE and existing:
            names = ", ".join(t.qualified for t in existing)
            findings.append(
                Finding(
                    "LOCK",
                    Severity.WARNING,
                    f"takes {c.lock.label} on {names}, which existed before the migration",
                    line,
                    rollback_file,
                )
            )
        if not c.transactional:
            findings.append(
                Finding(
                    "NON_TRANSACTIONAL",
                    Severity.INFO,
                    "runs outside the rollback transaction (after it commits)",
                    line,
                    rollback_file,
                )
            )
    return findings


def session_findings(rollback: Script, rollback_file: str) -> list[Finding]:
    """What `execute` refuses to run (it changes the runner's session) is an error here too."""
    return [
        Finding("SESSION_STATE", Severity.ERROR, f"execute refuses it: {r.message}", r.line,
                rollback_file)
        for r in refusals(rollback.statements)
    ]  # fmt: skip


_GRANTS = frozenset({"GrantStmt", "AlterDefaultPrivilegesStmt"})


def platform_findings(rollback: Script, rollback_file: str) -> list[Finding]:
    """A REVOKE of what the Supabase platform grants itself (platform_grants.py): the Data
    API's roles lose it, and the app's requests fail; the generator writes none."""
    findings = []
    for st in rollback.statements:
        if st.kind not in _GRANTS:
            continue
        taken = platform_grants.revoked_from_platform(st.node)
        if taken:
            shown = "; ".join(sorted({f"{n.upper()} on {p} from {who}" for p, who, n in taken}))
            findings.append(Finding("PLATFORM_PRIVILEGE", Severity.WARNING,
                f"revokes what the Supabase platform grants itself ({shown}): unless an earlier "
                "migration revoked it, the platform's roles lose it; the undo of a GRANT that "
                "only said it again is nothing", st.location.line, rollback_file))  # fmt: skip
    return findings


def forward_session_findings(forward: Script, file: str) -> list[Finding]:
    """What `apply` does about a forward statement changing its session (keeps its own
    timeouts, scopes a role to the file, refuses replica mode), in the words apply warns with."""
    return [
        Finding("SESSION_STATE", Severity.WARNING, f.message, f.line, file)
        for f in forward_findings(forward.statements)
    ]


def unrelated_findings(
    forward: Script, rollback: Script, text: str, rollback_file: str
) -> list[Finding]:
    """A rollback statement destroying what the migration never made undoes nothing of it, and
    verification (catalogs only) cannot see the data it destroys: an error unless marked."""
    allowed = ALLOW_UNRELATED_MARK in text
    subjects = forward_subjects(forward)
    findings: list[Finding] = []
    for st in rollback.statements:
        for what in unrelated_targets(st, subjects):
            findings.append(_unrelated(what, allowed, st.location.line, rollback_file))
    return findings


def _unrelated(what: str, allowed: bool, line: int, rollback_file: str) -> Finding:
    message = (
        f"destroys {what}, which the migration did not create or change: this undoes nothing "
        "of it, and verification (which compares catalogs) cannot see the data lost"
    )
    if allowed:
        return Finding("UNRELATED", Severity.WARNING, f"{message} (kept: '{ALLOW_UNRELATED_MARK}')",
                       line, rollback_file)  # fmt: skip
    hint = f"; remove it, or add '{ALLOW_UNRELATED_MARK}' to keep it"
    return Finding("UNRELATED", Severity.ERROR, message + hint, line, rollback_file)


def manual_findings(text: str, rollback_file: str) -> list[Finding]:
    return [
        Finding("MANUAL", Severity.MANUAL, message, line, rollback_file)
        for line, message in split_comment_lines(text, MANUAL_PREFIX)
    ]


def created_names(forward: Script) -> set[str]:
    names: set[str] = set()
    for st in forward.statements:
        node = st.node
        if isinstance(node, ast.CreateStmt):
            names.add(node.relation.relname.lower())
        elif isinstance(node, ast.CreateTableAsStmt):
            names.add(node.into.rel.relname.lower())
    return names


NameIndex = dict[str, list[tuple[int, Statement]]]


def name_index(scripts: Iterable[Script | None]) -> NameIndex:
    """name -> (migration position, statement) of every statement that mentions it."""
    index: NameIndex = {}
    for position, script in enumerate(scripts):
        for st in script.statements if script else ():
            for name in touched_names(st.node):
                index.setdefault(name, []).append((position, st))
    return index


def later_dependents(
    dropped: Iterable[str], index: NameIndex, after: int
) -> list[tuple[str, Statement]]:
    """Statements of migrations after position `after` that mention objects it drops."""
    hits: list[tuple[str, Statement]] = []
    for name in sorted({d.lower() for d in dropped}):
        mentions = index.get(name, [])
        # Mentions are in migration order: skip the earlier ones without scanning them.
        first = bisect_right(mentions, after, key=lambda mention: mention[0])
        hits.extend((name, st) for _, st in mentions[first:])
    return sorted(hits, key=lambda hit: (hit[1].location.file, hit[1].index))


def dropped_names(rollback: Script) -> list[str]:
    return [n for n in (dropped_name(st) for st in rollback.statements) if n]
