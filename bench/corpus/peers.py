"""Put a peer (Atlas's open-source schema engine) beside migration-rollback on the corpus.

For every migration the tool replayed in a `run.py --json` result, on a private PostgreSQL 15
loaded with the Supabase baseline (run.py's scratch server): "before" is the database with the
earlier migrations applied, "after" a `CREATE DATABASE ... TEMPLATE` copy of it with the forward
migration applied. Atlas plans the changes that take "after" back to "before"
(bench/corpus/peers/atlas), the plan is applied to "after", and the two are compared with
run.py's own pg_dump check. Atlas restores the schema = the plan applies and the dumps match
(column order aside, as run.py counts ours). Ours = the tool's status `verified` in the JSON.

    .venv/bin/python bench/corpus/peers.py --results /tmp/corpus2.json --json /tmp/peers.json
    .venv/bin/python bench/corpus/peers.py --results /tmp/corpus2.json --project capgo --limit 1

pg-schema-diff, the other peer, is not here: the Go module proxy refuses the module (see
README). A migration whose forward fails on this server is not compared (as in run.py), and is
then replayed in part so that the later migrations start from the tool's state.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUILD = HERE / "peers" / "build.sh"
AFTER_DB = "corpus_peer_after"
PLAN_TIMEOUT = 300.0
# Atlas restores: the same verdicts under which run.py counts a rollback as verified.
RESTORED = frozenset({"same", "column_order_only"})
NOT_COMPARED = frozenset({"forward_error"})


def _load_run() -> Any:
    """bench/corpus/run.py as a module (it is a script, not in a package)."""
    spec = importlib.util.spec_from_file_location("corpus_run", HERE / "run.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HERE / 'run.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


corpus_run = _load_run()


# --- the comparison, pure -------------------------------------------------------------------------


@dataclass
class PeerCheck:
    migration: str
    ours: str  # the tool's status in run.py's JSON
    # same | column_order_only | different (run.py's compare), or atlas_error (no plan),
    # rollback_error (the plan fails), forward_error (not compared)
    atlas: str
    detail: list[str] = field(default_factory=list)
    statements: int = 0  # in Atlas's plan

    @property
    def compared(self) -> bool:
        return self.atlas not in NOT_COMPARED

    @property
    def atlas_restores(self) -> bool:
        return self.atlas in RESTORED

    @property
    def ours_verified(self) -> bool:
        return self.ours == "verified"


def two_by_two(checks: Iterable[PeerCheck]) -> dict[str, int]:
    """Compared migrations as ours (verified y/n) x Atlas (restores y/n)."""
    cells = {f"ours_{o}_atlas_{a}": 0 for o in "yn" for a in "yn"}
    for c in checks:
        if c.compared:
            o, a = "y" if c.ours_verified else "n", "y" if c.atlas_restores else "n"
            cells[f"ours_{o}_atlas_{a}"] += 1
    return cells


_STAGE = re.compile(r"^atlas-rollback: (\w+): ")
_KIND = re.compile(
    r"^[-+] ((?:CREATE|ALTER|DROP) (?:OR REPLACE )?(?:UNIQUE )?(?:MATERIALIZED )?"
    r"(?:EVENT )?(?:DEFAULT )?\w+|GRANT|REVOKE|COMMENT|SECURITY LABEL)"
)


def error_class(check: PeerCheck) -> str | None:
    """Why Atlas did not restore, grouped: its stage, the failing statement's error, or a
    differing schema (see differing_kinds). None when it restored or was not compared."""
    if check.atlas_restores or not check.compared:
        return None
    first = check.detail[0] if check.detail else ""
    if check.atlas == "atlas_error":
        stage = _STAGE.match(first)
        text = _STAGE.sub("", first)
        return f"atlas {stage.group(1) if stage else 'failed'}: {_group(text)}"
    if check.atlas == "rollback_error":
        return "plan fails: " + _group(re.sub(r"^.*?ERROR:\s*", "", first))
    if check.atlas == "different":
        return "schema differs"
    return check.atlas


def differing_kinds(checks: Iterable[PeerCheck]) -> Counter[str]:
    """For Atlas's `different` verdicts, the kinds of dump entries that differ; a migration
    counts once under each of its kinds, under "other" when none is recognised (e.g. only
    pieces of function bodies that have blank lines, which split pg_dump entries)."""
    kinds: Counter[str] = Counter()
    for c in checks:
        if c.atlas == "different":
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


def atlas_only(checks: Iterable[PeerCheck]) -> list[PeerCheck]:
    """What Atlas restores and ours does not: the cases ours must learn from."""
    return [c for c in checks if c.compared and c.atlas_restores and not c.ours_verified]


# --- running Atlas on the scratch server ----------------------------------------------------------


def atlas_binary() -> Path:
    """The Atlas peer, built once by peers/build.sh (cached by source version)."""
    done = subprocess.run(
        ["bash", str(BUILD)], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"building the Atlas peer failed ({BUILD}):\n{done.stderr.strip()}")
    return Path(done.stdout.strip().splitlines()[-1])


def plan(binary: Path, current: str, desired: str, schemas: list[str]) -> tuple[str, str | None]:
    """Atlas's SQL taking `current` to `desired`, or its error (first line)."""
    args = [str(binary), "-current", current, "-desired", desired]
    args += [arg for s in schemas for arg in ("-schema", s)]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=PLAN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return "", f"atlas-rollback: timeout: no plan after {PLAN_TIMEOUT:.0f} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"atlas-rollback: exit {done.returncode}"]
        return "", lines[-1][:400]
    return done.stdout, None


def _url(scratch: Any, db: str) -> str:
    return f"{scratch.url(db)}?sslmode=disable"  # lib/pq asks for TLS unless told


def check_one(
    scratch: Any, binary: Path, forward: Path, name: str, ours: str, schemas: list[str]
) -> PeerCheck:
    """Forward on a copy of the main database, Atlas back to the main one, then compare."""
    before = scratch.dump(scratch.main)
    scratch.copy(AFTER_DB)
    try:
        error = scratch.apply(AFTER_DB, forward)
        if error:
            return PeerCheck(name, ours, "forward_error", [error])
        sql, error = plan(binary, _url(scratch, AFTER_DB), _url(scratch, scratch.main), schemas)
        if error:
            return PeerCheck(name, ours, "atlas_error", [error])
        statements = sum(1 for line in sql.splitlines() if line and not line.startswith("--"))
        with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="atlas-") as script:
            script.write(sql)
            script.flush()
            error = scratch.apply(AFTER_DB, Path(script.name))
        if error:
            return PeerCheck(name, ours, "rollback_error", [error], statements)
        verdict, detail = corpus_run.compare(before, scratch.dump(AFTER_DB))
        return PeerCheck(name, ours, verdict, detail, statements)
    finally:
        scratch.drop(AFTER_DB)


@dataclass
class ProjectPeers:
    project: str
    checks: list[PeerCheck] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # forwards replayed in part on main
    error: str | None = None
    seconds: float = 0.0


def run_project(
    folder: Path, statuses: list[tuple[str, str]], binary: Path, timeout: float, schemas: list[str]
) -> ProjectPeers:
    """Replay the tool's migrations in its order, checking Atlas on each one."""
    result = ProjectPeers(folder.name)
    started = time.monotonic()
    migrations = folder / "supabase" / "migrations"
    try:
        from binaries import project_major  # beside run.py, on its path once run.py is loaded

        with corpus_run.scratch_server(project_major(migrations)) as scratch:
            for name, ours in statuses:
                if time.monotonic() - started > timeout:
                    result.error = f"timed out after {timeout:.0f} s"
                    break
                forward = migrations / f"{name}.sql"
                result.checks.append(check_one(scratch, binary, forward, name, ours, schemas))
                error = scratch.apply(scratch.main, forward)
                if error:  # as run.py and the tool: failing statements skipped, the rest kept
                    result.partial.append(f"{name}: {error}")
                    scratch.apply_partly(scratch.main, forward)
    except Exception as exc:  # one project's failure must not stop the run
        result.error = f"{type(exc).__name__}: {exc}"[:400]
    result.seconds = round(time.monotonic() - started, 1)
    return result


# --- input and report -----------------------------------------------------------------------------


def replayed(results: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Per project folder, the migrations the tool replayed (in its order) with their status."""
    out: dict[str, list[tuple[str, str]]] = {}
    for project in results.get("projects") or []:
        rows = project.get("per_migration") or []
        out[str(project.get("project"))] = [
            (str(r["migration"]), str(r["status"]))
            for r in rows
            if r.get("status") not in corpus_run.NOT_REPLAYED
        ]
    return out


def _cells(checks: list[PeerCheck]) -> str:
    t = two_by_two(checks)
    compared = sum(t.values())
    skipped = sum(1 for c in checks if not c.compared)
    cells = [t["ours_y_atlas_y"], t["ours_y_atlas_n"], t["ours_n_atlas_y"], t["ours_n_atlas_n"]]
    return f"{compared:5d} " + " ".join(f"{n:5d}" for n in cells) + f" {skipped:5d}"


def report(projects: list[ProjectPeers]) -> dict[str, Any]:
    cells = " ".join(f"{h:>5}" for h in ("cmp", "yy", "yn", "ny", "nn", "fwerr"))
    head = f"{'project':44} {cells} {'secs':>7}"
    print(head + "   (ours x Atlas: y = verified / restores)")
    print("-" * len(head))
    for p in projects:
        note = f"  {p.error[:80]}" if p.error else ""
        print(f"{p.project[:44]:44} {_cells(p.checks)} {p.seconds:7.1f}{note}")
    every = [c for p in projects for c in p.checks]
    print("-" * len(head))
    total_secs = sum(p.seconds for p in projects)
    print(f"{f'TOTAL ({len(projects)} projects)':44} {_cells(every)} {total_secs:7.1f}")

    table = two_by_two(every)
    compared = sum(table.values())
    print(f"\nper migration, {compared} compared (forward applied on this server):")
    print(f"  {'':16} {'Atlas restores':>15} {'Atlas not':>10}")
    for o, label in (("y", "ours verified"), ("n", "ours not")):
        yes, no = table[f"ours_{o}_atlas_y"], table[f"ours_{o}_atlas_n"]
        print(f"  {label:16} {yes:15d} {no:10d}")
    ours = table["ours_y_atlas_y"] + table["ours_y_atlas_n"]
    atlas = table["ours_y_atlas_y"] + table["ours_n_atlas_y"]
    if compared:
        print(f"  verified/restored: ours {ours / compared:.1%}, Atlas {atlas / compared:.1%}")
    order = sum(1 for c in every if c.atlas == "column_order_only")
    print(f"  Atlas column order only (counted as restored): {order}")

    only = [(p.project, c) for p in projects for c in atlas_only(p.checks)]
    # An empty plan: the forward changed no schema (data only), where ours may say MANUAL.
    shapes = Counter(f"ours {c.ours}, {'empty' if not c.statements else 'non-empty'} plan"
                     for _, c in only)  # fmt: skip
    print(f"\nAtlas restores, ours does not ({len(only)}: {dict(shapes.most_common())}):")
    for project, c in only:
        plan_size = f"{c.statements} statements" if c.statements else "empty plan"
        print(f"  {project} {c.migration}: ours {c.ours}, Atlas {c.atlas} ({plan_size})")
    classes = error_classes(every)
    print(f"\nAtlas does not restore ({sum(classes.values())}), by class:")
    for cls, n in classes.most_common():
        print(f"  {n:4d}  {cls}")
    kinds = differing_kinds(every)
    print("  schema differs, by kind of dump entry (a migration under each of its kinds):")
    for kind, n in kinds.most_common():
        print(f"    {n:4d}  {kind}")
    for p in projects:
        if p.error:
            print(f"  project error {p.project}: {p.error}")
    return {
        "two_by_two": table,
        "compared": compared,
        "not_compared": sum(1 for c in every if not c.compared),
        "atlas_column_order_only": order,
        "atlas_only": [{"project": p, **asdict(c)} for p, c in only],
        "atlas_only_shapes": dict(shapes.most_common()),
        "atlas_error_classes": dict(classes.most_common()),
        "atlas_differing_kinds": dict(kinds.most_common()),
    }


def saved(path: Path) -> list[ProjectPeers]:
    """The per-project checks of an earlier `--json` output, to report them again."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    projects = []
    for p in doc.get("projects") or []:
        checks = [PeerCheck(**c) for c in p.get("checks") or []]
        fields = {k: p[k] for k in ("partial", "error", "seconds") if k in p}
        projects.append(ProjectPeers(str(p["project"]), checks, **fields))
    return projects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=Path, help="a run.py --json output (required)")
    parser.add_argument(
        "--report", type=Path, default=None, help="print an earlier --json output again"
    )
    parser.add_argument("--corpus", type=Path, default=corpus_run.DEFAULT_CORPUS)
    parser.add_argument("--project", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="at most N projects")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per project")
    parser.add_argument("--schema", action="append", default=[], help="Atlas compares only these")
    parser.add_argument("--json", type=Path, default=None, help="save the figures here")
    args = parser.parse_args(argv)
    if args.report:
        report(saved(args.report))
        return 0
    if args.results is None:
        parser.error("--results is required (a run.py --json output)")
    try:
        statuses = replayed(json.loads(args.results.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.results}: {exc}", file=sys.stderr)
        return 2
    folders = corpus_run.projects_in(args.corpus, args.project, args.limit)
    missing = [f.name for f in folders if not statuses.get(f.name)]
    folders = [f for f in folders if statuses.get(f.name)]
    if missing:
        print(f"no replayed migration in {args.results} for: {', '.join(missing)}")
    if not folders:
        print("no project to compare", file=sys.stderr)
        return 2
    binary = atlas_binary()
    started = time.monotonic()
    projects = []
    for i, folder in enumerate(folders, 1):
        p = run_project(folder, statuses[folder.name], binary, args.timeout, args.schema)
        projects.append(p)
        t = two_by_two(p.checks)
        print(f"[{i}/{len(folders)}] {p.project}: {t}, {p.seconds:.0f}s", flush=True)
    print()
    figures = report(projects)
    wall = time.monotonic() - started
    print(f"\nwall time {wall:.0f}s, {len(projects)} projects, Atlas peer {binary.name}")
    if args.json:
        doc = {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "results": str(args.results),
            "atlas": binary.name,
            "wall_seconds": round(wall, 1),
            **figures,
            "projects": [asdict(p) for p in projects],
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
