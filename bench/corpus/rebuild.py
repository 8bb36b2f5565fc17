"""Rebuild the real-world migration corpus from fetched repository snapshots.

Only `manifest.json` is committed: this script copies each project's migrations (and its
`supabase/config.toml`, if any) at the manifest's commit out of a bare git snapshot under
`/work/.mirror/<owner>+<name>/repo` into `<corpus>/<owner>__<name>/supabase/migrations/`, the
layout `migration-rollback` reads. Projects whose migrations are golang-migrate or diesel pairs
(`*.up.sql` / `*.down.sql`) are renamed to `<digits>_<name>.sql`; their hand-written down
migrations go to `<corpus>/<owner>__<name>/down/<same name>.sql`, outside the migrations folder.

    .venv/bin/python bench/corpus/rebuild.py                 # ~/.cache/migration-rollback/corpus
    .venv/bin/python bench/corpus/rebuild.py --project capgo --corpus /tmp/corpus

A missing snapshot is named with the `fetch` that brings it; the others are still built.
Exit status: 0 all built, 3 some snapshots missing or incomplete.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_MANIFEST = HERE / "manifest.json"
DEFAULT_CORPUS = Path(
    os.environ.get("MIGRATION_ROLLBACK_CORPUS", "~/.cache/migration-rollback/corpus")
).expanduser()
DEFAULT_MIRROR = Path(os.environ.get("MIGRATION_ROLLBACK_MIRROR", "/work/.mirror"))
ENTRY_FILE = "corpus-entry.json"


@dataclass(frozen=True)
class TreeFile:
    path: str  # relative to the repository root
    mode: str
    kind: str


def project_dir_name(repo: str) -> str:
    """`owner/name` -> `owner__name` (the folder of the project in the corpus)."""
    owner, name = repo.split("/", 1)
    return f"{owner}__{name}"


def load_manifest(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    projects = doc.get("projects", [])
    if not isinstance(projects, list):
        raise SystemExit(f"{path}: 'projects' is not a list")
    return [p for p in projects if isinstance(p, dict)]


def selected(projects: list[dict[str, Any]], wanted: list[str]) -> list[dict[str, Any]]:
    """Projects matching any of `wanted` (owner/name, owner__name or a part of either)."""
    if not wanted:
        return projects
    keep = []
    for project in projects:
        repo = str(project["repo"])
        names = {repo.lower(), project_dir_name(repo).lower()}
        if any(w.lower() in n for w in wanted for n in names):
            keep.append(project)
    return keep


def git_dir(mirror: Path, repo: str) -> Path | None:
    """The bare git directory of a fetched snapshot, or None when it is not here."""
    base = mirror / repo.replace("/", "+")
    for candidate in (base / "repo", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _git(gdir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", f"--git-dir={gdir}", *args], capture_output=True, check=False)


def has_commit(gdir: Path, commit: str) -> bool:
    return _git(gdir, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def tree_files(gdir: Path, commit: str, folder: str) -> list[TreeFile]:
    """Every file under `folder` at `commit` (recursive, paths from the repository root)."""
    done = _git(gdir, "ls-tree", "-r", "-z", commit, "--", folder)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace").strip())
    files = []
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, _sha = meta.decode().split(" ")
        files.append(TreeFile(path.decode(errors="surrogateescape"), mode, kind))
    return files


def blob(gdir: Path, commit: str, path: str) -> bytes:
    done = _git(gdir, "cat-file", "blob", f"{commit}:{path}")
    if done.returncode != 0:
        raise RuntimeError(f"{path}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _regular(f: TreeFile) -> bool:
    return f.kind == "blob" and f.mode in ("100644", "100755")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "migration"


def plan_supabase(project: dict[str, Any], files: list[TreeFile]) -> dict[str, str]:
    """`supabase/migrations/<file>` for each top-level .sql file of the migrations folder."""
    folder = str(project["migrations_path"]).rstrip("/") + "/"
    plan = {}
    for f in files:
        rest = f.path[len(folder) :]
        if f.path.startswith(folder) and "/" not in rest and rest.endswith(".sql") and _regular(f):
            plan[f.path] = f"supabase/migrations/{rest}"
    return plan


def plan_pairs(project: dict[str, Any], files: list[TreeFile]) -> dict[str, str]:
    """Up files to `supabase/migrations/<digits>_<name>.sql`, down files to `down/`."""
    folder = str(project["migrations_path"]).rstrip("/") + "/"
    up = re.compile(str(project["up_regex"]))
    down = re.compile(str(project["down_regex"]))
    plan = {}
    for f in files:
        if not (f.path.startswith(folder) and _regular(f)):
            continue
        rest = f.path[len(folder) :]
        for pattern, target in ((up, "supabase/migrations"), (down, "down")):
            m = pattern.match(rest)
            if m:
                version = re.sub(r"\D", "", m.group("version"))
                plan[f.path] = f"{target}/{version}_{_safe_name(m.group('name'))}.sql"
    return plan


def rebuild_project(project: dict[str, Any], mirror: Path, corpus: Path) -> str | None:
    """Build one project; None when done, else why not (with the fetch to run)."""
    repo = str(project["repo"])
    commit = str(project["commit"])
    gdir = git_dir(mirror, repo)
    if gdir is None:
        return f"no snapshot under {mirror}: call fetch github:{repo} (then run this again)"
    if not has_commit(gdir, commit):
        return (
            f"the snapshot in {gdir} lacks commit {commit}: call fetch github:{repo} again; "
            "if the newest snapshot no longer has it, pin a new commit in the manifest"
        )
    files = tree_files(gdir, commit, str(project["migrations_path"]))
    layout = str(project.get("layout", "supabase"))
    plan = plan_supabase(project, files) if layout == "supabase" else plan_pairs(project, files)
    config = project.get("config_path")
    if config:
        plan[str(config)] = "supabase/config.toml"
    dest = corpus / project_dir_name(repo)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "supabase" / "migrations").mkdir(parents=True)
    for source, target in sorted(plan.items()):
        out = dest / target
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(blob(gdir, commit, source))
    migrations = sum(1 for t in plan.values() if t.startswith("supabase/migrations/"))
    downs = sum(1 for t in plan.values() if t.startswith("down/"))
    entry = dict(project)
    entry.update({"built_migrations": migrations, "built_downs": downs, "files": plan})
    (dest / ENTRY_FILE).write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
    expected = int(project.get("migration_files", migrations))
    if migrations != expected:
        return f"built {migrations} migrations, the manifest says {expected}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="fetched snapshots")
    parser.add_argument("--project", action="append", default=[], help="only these (repeatable)")
    args = parser.parse_args(argv)
    projects = selected(load_manifest(args.manifest), args.project)
    if not projects:
        print("no project matches", file=sys.stderr)
        return 2
    args.corpus.mkdir(parents=True, exist_ok=True)
    problems = 0
    for project in projects:
        repo = str(project["repo"])
        why = rebuild_project(project, args.mirror, args.corpus)
        if why is None:
            print(f"built   {repo} @ {str(project['commit'])[:12]}")
        else:
            problems += 1
            print(f"MISSING {repo}: {why}", file=sys.stderr)
    print(f"{len(projects) - problems}/{len(projects)} projects built in {args.corpus}")
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
