"""Put the peers (Atlas's open-source schema engine, Stripe's pg-schema-diff) beside
migration-rollback on the corpus.

For every migration the tool replayed in a `run.py --json` result, on a private PostgreSQL 15
loaded with the Supabase baseline (run.py's scratch server): "before" is the database with the
earlier migrations applied, "after" a `CREATE DATABASE ... TEMPLATE` copy of it with the forward
migration applied. A peer plans the changes that take "after" back to "before" (its small Go
main under bench/corpus/peers/), the plan is applied to "after", and the two are compared with
run.py's own pg_dump check. The peer restores the schema = the plan applies and the dumps match
(column order aside, as run.py counts ours). Ours = the tool's status `verified` in the JSON.

    .venv/bin/python bench/corpus/peers.py --results /tmp/corpus2.json --json /tmp/peers.json
    .venv/bin/python bench/corpus/peers.py --results /tmp/corpus2.json --peer all \
        --project capgo --limit 1

Each peer gets a fresh "after" copy. A migration whose forward fails on this server is not
compared (as in run.py), and is then replayed in part so that the later migrations start from
the tool's state.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUILD = HERE / "peers" / "build.sh"
AFTER_DB = "corpus_peer_after"
PLAN_TIMEOUT = 300.0


def _load(script: str, name: str) -> Any:
    """A script beside this one as a module (they are scripts, not in a package)."""
    spec = importlib.util.spec_from_file_location(name, HERE / script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HERE / script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


corpus_run = _load("run.py", "corpus_run")
pf = _load("peer_figures.py", "corpus_peer_figures")


# --- running the peers on the scratch server ------------------------------------------------------


@dataclass(frozen=True)
class PeerRun:
    """A peer and its built binary."""

    peer: pf.Peer
    binary: Path


def build(peers: list[pf.Peer]) -> dict[str, Path]:
    """Each peer's binary, built once by peers/build.sh (cached by source version)."""
    done = subprocess.run(
        ["bash", str(BUILD), *(p.folder for p in peers)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"building the peers failed ({BUILD}):\n{done.stderr.strip()}")
    paths = done.stdout.strip().splitlines()[-len(peers) :]
    return {p.name: Path(path) for p, path in zip(peers, paths, strict=True)}


def plan(
    peer: pf.Peer, binary: Path, current: str, desired: str, schemas: list[str]
) -> tuple[str, str | None]:
    """The peer's SQL taking `current` to `desired`, or its error (last line of stderr)."""
    args = [str(binary), "-current", current, "-desired", desired]
    args += [arg for s in schemas for arg in ("-schema", s)]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=PLAN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return "", f"{peer.binary}: timeout: no plan after {PLAN_TIMEOUT:.0f} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"{peer.binary}: exit {done.returncode}"]
        return "", lines[-1][:400]
    return done.stdout, None


def _url(scratch: Any, db: str) -> str:
    return f"{scratch.url(db)}?sslmode=disable"  # lib/pq asks for TLS unless told


def check_one(
    scratch: Any, run: PeerRun, forward: Path, name: str, ours: str, schemas: list[str]
) -> pf.PeerCheck:
    """Forward on a copy of the main database, the peer back to the main one, then compare."""
    before = scratch.dump(scratch.main)
    scratch.copy(AFTER_DB)
    try:
        error = scratch.apply(AFTER_DB, forward)
        if error:
            return pf.PeerCheck(name, ours, "forward_error", [error])
        current, desired = _url(scratch, AFTER_DB), _url(scratch, scratch.main)
        sql, error = plan(run.peer, run.binary, current, desired, schemas)
        if error:
            return pf.PeerCheck(name, ours, "plan_error", [error])
        statements = sum(1 for line in sql.splitlines() if line and not line.startswith("--"))
        with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="peer-") as script:
            script.write(sql)
            script.flush()
            error = scratch.apply(AFTER_DB, Path(script.name))
        if error:
            return pf.PeerCheck(name, ours, "rollback_error", [error], statements)
        verdict, detail = corpus_run.compare(before, scratch.dump(AFTER_DB))
        return pf.PeerCheck(name, ours, verdict, detail, statements)
    finally:
        scratch.drop(AFTER_DB)


def run_project(
    folder: Path,
    statuses: list[tuple[str, str]],
    runs: list[PeerRun],
    timeout: float,
    schemas: list[str],
) -> pf.ProjectPeers:
    """Replay the tool's migrations in its order, checking each peer on each one."""
    result = pf.ProjectPeers(folder.name, {r.peer.name: [] for r in runs})
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
                for r in runs:
                    check = check_one(scratch, r, forward, name, ours, schemas)
                    result.checks[r.peer.name].append(check)
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


def _cells(checks: list[pf.PeerCheck]) -> str:
    t = pf.two_by_two(checks)
    compared = sum(t.values())
    skipped = sum(1 for c in checks if not c.compared)
    cells = [t["ours_y_peer_y"], t["ours_y_peer_n"], t["ours_n_peer_y"], t["ours_n_peer_n"]]
    return f"{compared:5d} " + " ".join(f"{n:5d}" for n in cells) + f" {skipped:5d}"


def report(peer: str, projects: list[pf.ProjectPeers]) -> dict[str, Any]:
    """Print one peer's comparison; return its figures."""
    cells = " ".join(f"{h:>5}" for h in ("cmp", "yy", "yn", "ny", "nn", "fwerr"))
    head = f"{'project':44} {cells} {'secs':>7}"
    print(f"== {peer} ==\n{head}   (ours x {peer}: y = verified / restores)")
    print("-" * len(head))
    for p in projects:
        note = f"  {p.error[:80]}" if p.error else ""
        print(f"{p.project[:44]:44} {_cells(p.checks.get(peer, []))} {p.seconds:7.1f}{note}")
    every = [c for p in projects for c in p.checks.get(peer, [])]
    print("-" * len(head))
    total_secs = sum(p.seconds for p in projects)
    print(f"{f'TOTAL ({len(projects)} projects)':44} {_cells(every)} {total_secs:7.1f}")
    f = pf.figures(peer, projects)
    _print_figures(peer, f)
    for p in projects:
        if p.error:
            print(f"  project error {p.project}: {p.error}")
    return f


def _print_figures(peer: str, f: dict[str, Any]) -> None:
    table, compared = f["two_by_two"], f["compared"]
    print(f"\nper migration, {compared} compared (forward applied on this server):")
    print(f"  {'':16} {peer + ' restores':>24} {peer + ' not':>20}")
    for o, label in (("y", "ours verified"), ("n", "ours not")):
        yes, no = table[f"ours_{o}_peer_y"], table[f"ours_{o}_peer_n"]
        print(f"  {label:16} {yes:24d} {no:20d}")
    if compared:
        ours, theirs = f["ours_verified"] / compared, f["peer_restores"] / compared
        print(f"  verified/restored: ours {ours:.1%}, {peer} {theirs:.1%}")
    print(f"  {peer} column order only (counted as restored): {f['column_order_only']}")
    only = f["peer_only"]
    print(f"\n{peer} restores, ours does not ({len(only)}: {f['peer_only_shapes']}):")
    for c in only:
        plan_size = f"{c['statements']} statements" if c["statements"] else "empty plan"
        verdict = f"{peer} {c['verdict']}"
        print(f"  {c['project']} {c['migration']}: ours {c['ours']}, {verdict} ({plan_size})")
    _print_schema(peer, f)
    classes = f["error_classes"]
    print(f"\n{peer} does not restore ({sum(classes.values())}), by class:")
    for cls, n in classes.items():
        print(f"  {n:4d}  {cls}")
    print("  schema differs, by kind of dump entry (a migration under each of its kinds):")
    for kind, n in f["differing_kinds"].items():
        print(f"    {n:4d}  {kind}")


def _print_schema(peer: str, f: dict[str, Any]) -> None:
    """The peers' own measure: did the schema come back. Ours counts a rollback whose schema
    round trip matches while MANUAL data items remain (a schema-only peer leaves that data)."""
    table = f["schema_two_by_two"]
    ours = table["ours_y_peer_y"] + table["ours_y_peer_n"]
    theirs = table["ours_y_peer_y"] + table["ours_n_peer_y"]
    print(f"\nschema alone (the peers' measure): ours restores {ours}, {peer} {theirs}")
    print(f"  yy {table['ours_y_peer_y']}, yn {table['ours_y_peer_n']}, "
          f"ny {table['ours_n_peer_y']}, nn {table['ours_n_peer_n']}")  # fmt: skip
    only = f["peer_only_schema"]
    print(f"  {peer} restores the schema, ours does not: {len(only)}")
    for c in only:
        print(f"    {c['project']} {c['migration']}: ours {c['ours']}, {peer} {c['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=Path, help="a run.py --json output (required)")
    parser.add_argument(
        "--report", type=Path, default=None, help="print an earlier --json output again"
    )
    parser.add_argument(
        "--peer", choices=[*pf.PEERS, "all"], default="atlas", help="which peer (default: atlas)"
    )
    parser.add_argument("--corpus", type=Path, default=corpus_run.DEFAULT_CORPUS)
    parser.add_argument("--project", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="at most N projects")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per project")
    parser.add_argument("--schema", action="append", default=[], help="peers compare only these")
    parser.add_argument("--json", type=Path, default=None, help="save the figures here")
    args = parser.parse_args(argv)
    if args.report:
        projects = pf.saved(args.report)
        if args.results is not None:  # the peers' saved checks against a newer run of ours
            pf.crossed(projects, json.loads(args.results.read_text(encoding="utf-8")))
        for peer in pf.peers_in(projects):
            report(peer, projects)
        return 0
    if args.results is None:
        parser.error("--results is required (a run.py --json output)")
    try:
        ours = json.loads(args.results.read_text(encoding="utf-8"))
        statuses = replayed(ours)
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
    peers = list(pf.PEERS.values()) if args.peer == "all" else [pf.PEERS[args.peer]]
    binaries = build(peers)
    runs = [PeerRun(p, binaries[p.name]) for p in peers]
    return _run(args, folders, ours, runs)


def _run(
    args: argparse.Namespace, folders: list[Path], ours: dict[str, Any], runs: list[PeerRun]
) -> int:
    statuses = replayed(ours)
    started = time.monotonic()
    projects = []
    for i, folder in enumerate(folders, 1):
        p = run_project(folder, statuses[folder.name], runs, args.timeout, args.schema)
        projects.append(p)
        tables = {peer: pf.two_by_two(checks) for peer, checks in p.checks.items()}
        print(f"[{i}/{len(folders)}] {p.project}: {tables}, {p.seconds:.0f}s", flush=True)
    pf.crossed(projects, ours)
    print()
    by_peer = {}
    for r in runs:
        by_peer[r.peer.name] = {"binary": r.binary.name, **report(r.peer.name, projects)}
        print()
    wall = time.monotonic() - started
    built = ", ".join(r.binary.name for r in runs)
    print(f"wall time {wall:.0f}s, {len(projects)} projects, peers {built}")
    if args.json:
        doc = {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "results": str(args.results),
            "wall_seconds": round(wall, 1),
            "peers": by_peer,
            "projects": [asdict(p) for p in projects],
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
