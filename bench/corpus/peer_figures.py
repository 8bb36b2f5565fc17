"""What the peer comparison counts (bench/corpus/peers.py runs it): the peers, one check per
migration and peer, the 2x2 of ours verified x peer restores, why a peer did not restore, and
the figures a run saves and `--report` reads back. Pure: no database, no subprocess.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# A peer restores: the same verdicts under which run.py counts a rollback as verified.
RESTORED = frozenset({"same", "column_order_only"})
NOT_COMPARED = frozenset({"forward_error"})


@dataclass(frozen=True)
class Peer:
    """One peer: its folder under peers/ (what build.sh builds) and its binary's name, which
    starts each of its error lines ("<binary>: <stage>: <error>")."""

    name: str
    folder: str
    binary: str


PEERS = {
    p.name: p
    for p in (
        Peer("atlas", "atlas", "atlas-rollback"),
        Peer("pg-schema-diff", "pgschemadiff", "psd-rollback"),
    )
}


@dataclass
class PeerCheck:
    migration: str
    ours: str  # the tool's status in run.py's JSON
    # same | column_order_only | different (run.py's compare), or plan_error (no plan),
    # rollback_error (the plan fails), forward_error (not compared)
    verdict: str
    detail: list[str] = field(default_factory=list)
    statements: int = 0  # in the peer's plan
    # Ours brought the schema back (verified, or MANUAL data items left with the schema round
    # trip matching): the peers' own measure. None: a results file from before it was kept.
    ours_schema: bool | None = None

    def __post_init__(self) -> None:
        self.verdict = _OLD_VERDICTS.get(self.verdict, self.verdict)

    @property
    def compared(self) -> bool:
        return self.verdict not in NOT_COMPARED

    @property
    def peer_restores(self) -> bool:
        return self.verdict in RESTORED

    @property
    def ours_verified(self) -> bool:
        return self.ours == "verified"


# Outputs saved before pg-schema-diff joined named Atlas's failure to plan after it.
_OLD_VERDICTS = {"atlas_error": "plan_error"}


def two_by_two(checks: Iterable[PeerCheck], schema: bool = False) -> dict[str, int]:
    """Compared migrations as ours (verified y/n; with `schema`, schema restored y/n) x the
    peer (restores y/n)."""
    cells = {f"ours_{o}_peer_{a}": 0 for o in "yn" for a in "yn"}
    for c in checks:
        if c.compared:
            # unknown (a results file from before `schema` was kept): verified is the floor
            restored = c.ours_verified if c.ours_schema is None else c.ours_schema
            ours = restored if schema else c.ours_verified
            o, a = "y" if ours else "n", "y" if c.peer_restores else "n"
            cells[f"ours_{o}_peer_{a}"] += 1
    return cells


def crossed(projects: list[ProjectPeers], results: dict[str, Any]) -> None:
    """Put a newer run.py result's verdicts (status, schema restored) in saved peer checks, so
    the peers' outputs, which do not change with our code, are compared with ours as it is."""
    rows = {
        (str(p.get("project")), str(r.get("migration"))): r
        for p in results.get("projects") or []
        for r in p.get("per_migration") or []
    }
    for project in projects:
        for checks in project.checks.values():
            for c in checks:
                row = rows.get((project.project, c.migration))
                if row is not None:
                    c.ours = str(row.get("status"))
                    c.ours_schema = c.ours == "verified" or row.get("schema") is True


_BINARY_NAMES = {p.binary: p.name for p in PEERS.values()}
_STAGE = re.compile(r"^(" + "|".join(map(re.escape, _BINARY_NAMES)) + r"): (\w+): ")
_KIND = re.compile(
    r"^[-+] ((?:CREATE|ALTER|DROP) (?:OR REPLACE )?(?:UNIQUE )?(?:MATERIALIZED )?"
    r"(?:EVENT )?(?:DEFAULT )?\w+|GRANT|REVOKE|COMMENT|SECURITY LABEL)"
)


def error_class(check: PeerCheck) -> str | None:
    """Why the peer did not restore, grouped: its stage, the failing statement's error, or a
    differing schema (see differing_kinds). None when it restored or was not compared."""
    if check.peer_restores or not check.compared:
        return None
    first = check.detail[0] if check.detail else ""
    if check.verdict == "plan_error":
        stage = _STAGE.match(first)
        text = _STAGE.sub("", first)
        where = f"{_BINARY_NAMES[stage.group(1)]} {stage.group(2)}" if stage else "peer failed"
        return f"{where}: {_group(text)}"
    if check.verdict == "rollback_error":
        return "plan fails: " + _group(re.sub(r"^.*?ERROR:\s*", "", first))
    if check.verdict == "different":
        return "schema differs"
    return check.verdict


def differing_kinds(checks: Iterable[PeerCheck]) -> Counter[str]:
    """For the peer's `different` verdicts, the kinds of dump entries that differ; a migration
    counts once under each of its kinds, under "other" when none is recognised (e.g. only
    pieces of function bodies that have blank lines, which split pg_dump entries)."""
    kinds: Counter[str] = Counter()
    for c in checks:
        if c.verdict == "different":
            found = {m.group(1) for line in c.detail if (m := _KIND.match(line))}
            kinds.update(found or {"other"})
    return kinds


def _group(text: str) -> str:
    """A message with names and numbers taken out, so that similar ones count together."""
    text = re.sub(r'"[^"]*"', '"…"', text)
    text = _NAMED.sub(r"\1 …", text)  # PostgreSQL leaves these names unquoted
    return re.sub(r"\b\d+\b", "N", text)[:110]


_NAMED = re.compile(
    r"\b(table|column|type|index|view|constraint|function|sequence|schema|policy|trigger) "
    r"(?!because\b|of\b|does\b|is\b)[\w.$]+"
)


def error_classes(checks: Iterable[PeerCheck]) -> Counter[str]:
    return Counter(k for c in checks if (k := error_class(c)) is not None)


def peer_only(checks: Iterable[PeerCheck]) -> list[PeerCheck]:
    """What the peer restores and ours does not: the cases ours must learn from."""
    return [c for c in checks if c.compared and c.peer_restores and not c.ours_verified]


@dataclass
class ProjectPeers:
    project: str
    checks: dict[str, list[PeerCheck]] = field(default_factory=dict)  # peer name -> checks
    partial: list[str] = field(default_factory=list)  # forwards replayed in part on main
    error: str | None = None
    seconds: float = 0.0


def figures(peer: str, projects: list[ProjectPeers]) -> dict[str, Any]:
    """One peer's figures over the projects, as the JSON keeps them."""
    every = [c for p in projects for c in p.checks.get(peer, [])]
    table = two_by_two(every)
    only = [(p.project, c) for p in projects for c in peer_only(p.checks.get(peer, []))]
    # An empty plan: the forward changed no schema (data only), where ours may say MANUAL.
    shapes = Counter(f"ours {c.ours}, {'empty' if not c.statements else 'non-empty'} plan"
                     for _, c in only)  # fmt: skip
    return {
        "two_by_two": table,
        "compared": sum(table.values()),
        "not_compared": sum(1 for c in every if not c.compared),
        "ours_verified": table["ours_y_peer_y"] + table["ours_y_peer_n"],
        "peer_restores": table["ours_y_peer_y"] + table["ours_n_peer_y"],
        "column_order_only": sum(1 for c in every if c.verdict == "column_order_only"),
        "peer_only": [{"project": p, **asdict(c)} for p, c in only],
        "schema_two_by_two": two_by_two(every, schema=True),
        "peer_only_schema": [
            {"project": p.project, **asdict(c)}
            for p in projects
            for c in p.checks.get(peer, [])
            if c.compared and c.peer_restores and c.ours_schema is False
        ],
        "peer_only_shapes": dict(shapes.most_common()),
        "error_classes": dict(error_classes(every).most_common()),
        "differing_kinds": dict(differing_kinds(every).most_common()),
    }


def saved(path: Path) -> list[ProjectPeers]:
    """The per-project checks of an earlier `--json` output, to report them again (an output
    from before pg-schema-diff joined holds Atlas's checks as a list, under "atlas")."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    projects = []
    for p in doc.get("projects") or []:
        by_peer = p.get("checks") or {}
        if isinstance(by_peer, list):
            by_peer = {"atlas": by_peer}
        checks = {peer: [_check(c) for c in rows] for peer, rows in by_peer.items()}
        fields = {k: p[k] for k in ("partial", "error", "seconds") if k in p}
        projects.append(ProjectPeers(str(p["project"]), checks, **fields))
    return projects


def _check(row: dict[str, Any]) -> PeerCheck:
    row = dict(row)
    if "atlas" in row:  # the verdict's old name
        row["verdict"] = row.pop("atlas")
    return PeerCheck(**row)


def peers_in(projects: list[ProjectPeers]) -> list[str]:
    return [name for name in PEERS if any(name in p.checks for p in projects)]
