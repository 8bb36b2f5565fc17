"""On the real-world corpus: how many rollbacks with a data MANUAL item become automatic with
a capture (issue 14), before / after.

Per project of the built corpus (bench/corpus/rebuild.py), in a temporary copy and on a private
PostgreSQL (`verify.cluster.temporary_cluster()`) loaded with the Supabase baseline as the
verifier loads it (`verify.baseline.load_baseline`, stand-ins through `Platform`):

1. `migration-rollback apply` over the project (subprocess, MIGRATION_ROLLBACK_DATABASE_URL),
   no rows seeded: a capture's verdict (kept / MANUAL with a reason) depends on the table's
   key, the statement and the catalog, not on its rows. When a migration fails to apply it is
   recorded; if it creates an extension the server lacks, the stand-in is installed first (as
   the verifier's shadow does) and apply retried; otherwise it is replayed statement by
   statement past its errors (as the verifier replays a failed forward), recorded in the
   history table without a capture, and apply goes on with the next one.
2. `migration-rollback generate` (static) on another copy of the project.
3. Per migration: BEFORE = its rollback file has a MANUAL marker in the step of a statement a
   capture can answer (restore.py: INSERT / UPDATE / DELETE / MERGE / TRUNCATE, ALTER TABLE
   ... TYPE / DROP COLUMN); AFTER = such a marker is still there once
   `DataRestore.unanswered` (what `execute` calls before `check_manual`) has taken out the ones
   the captures in the database answer. A wider count adds the data markers restore.py leaves
   to a human by design (DROP TABLE / SCHEMA "... restore its data", vault secrets).

    .venv/bin/python bench/capture/corpus_share.py [--project capgo] [--timeout 180]
        [--json /tmp/share.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CORPUS = Path(
    os.environ.get("MIGRATION_ROLLBACK_CORPUS", "~/.cache/migration-rollback/corpus")
).expanduser()
MIGRATIONS = Path("supabase/migrations")
DATABASE = "corpus_share"
CLI_TIMEOUT = 120.0

# MANUAL texts of ALTER TABLE steps a capture answers (sql/rules/columns.py): a prior column type,
# the values of a dropped column.
_ALTER_DATA = re.compile(
    r"changed type; restore the previous type|was dropped with its values|"
    r"were dropped by the migration"
)
# Data markers restore.py does not answer by design: a dropped table / schema / sequence must be
# recreated first; a vault secret is stored by a function call.
_OTHER_DATA = re.compile(r"restore its data from the backup|a vault secret")


def tool() -> str:
    beside = Path(sys.executable).parent / "migration-rollback"
    return str(beside) if beside.exists() else "migration-rollback"


def cli(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", MIGRATION_ROLLBACK_DATABASE_URL=url)
    return subprocess.run(
        [tool(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


# --- one project (in a child process) --------------------------------------------------------


class Project:
    def __init__(self, folder: Path, work: Path, url: str) -> None:
        self.folder = folder
        self.apply_dir = work / "apply"
        self.gen_dir = work / "gen"
        shutil.copytree(folder, self.apply_dir)
        shutil.copytree(folder, self.gen_dir)
        self.url = url
        self.failed: dict[str, str] = {}  # version -> why it did not apply with capture
        self.standins_tried: set[str] = set()
        self.apply_runs = 0
        self.notes: list[str] = []

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    # -- applying ---------------------------------------------------------------------------

    def history(self) -> set[str]:
        with self.connect() as conn:
            return {
                str(r[0])
                for r in conn.execute("SELECT version FROM supabase_migrations.schema_migrations")
            }

    def pending(self) -> list[Any]:
        from migration_rollback.project.migrations import discover

        done = self.history()
        return [m for m in discover(self.apply_dir / MIGRATIONS) if m.version not in done]

    def apply_all(self) -> None:
        result_file = self.apply_dir / "apply.json"
        while True:
            pending = self.pending()
            if not pending:
                return
            # apply refuses the whole run for one unusable file (a duplicate version...): apply
            # up to the one before it, then record that one as failed.
            bad = next((i for i, m in enumerate(pending) if _unloadable(m)), None)
            if bad == 0:
                refusal = pending[0].problem or pending[0].duplicate
                self.failed.setdefault(pending[0].version, f"refused: {refusal}")
                self.replay_partly(pending[0])
                continue
            upto = ["--to", pending[bad - 1].version] if bad is not None else []
            self.apply_runs += 1
            done = cli(
                ["apply", "--result-file", str(result_file), *upto], self.apply_dir, self.url
            )
            if done.returncode == 0:
                continue
            doc: dict[str, Any] = {}
            with contextlib.suppress(OSError, ValueError):
                doc = json.loads(result_file.read_text())
            error = str(doc.get("error") or done.stderr.strip()[-300:] or done.returncode)
            committed = set(doc.get("committed") or ())
            failing = [a for a in doc.get("applied") or () if a["version"] not in committed]
            pending = self.pending()
            if not pending:
                self.notes.append(f"apply failed with nothing pending: {error[:200]}")
                return
            if failing:
                version = failing[-1]["version"]
                migration = next((m for m in pending if m.version == version), pending[0])
            else:  # refused before applying anything: an unusable file
                migration = next((m for m in pending if _unloadable(m)), pending[0])
            if (migration.problem or migration.duplicate) is None and self.install_standins(
                migration
            ):
                continue
            self.failed.setdefault(migration.version, _first_line(error))
            self.replay_partly(migration)

    def install_standins(self, migration: Any) -> bool:
        """Stand-ins for the extensions this migration creates that the server lacks (the
        verifier's shadow does the same); True when one was installed (apply is retried)."""
        if migration.version in self.standins_tried:
            return False
        self.standins_tried.add(migration.version)
        from pglast import ast

        from migration_rollback.verify.standins import standin
        from migration_rollback.verify.standins.install import Platform

        statements = _statements(migration.path)
        installed = False
        with self.connect() as conn:
            platform = Platform(conn)
            for stmt in statements:
                if not isinstance(stmt.node, ast.CreateExtensionStmt):
                    continue
                name = str(stmt.node.extname)
                if name in platform.available or name in platform.installed():
                    continue
                if standin(name) is None or not platform.can_create(name):
                    continue
                try:
                    with conn.transaction():
                        platform.run(stmt)
                    installed = True
                    self.notes.append(f"stand-in {name} installed for {migration.name}")
                except Exception as exc:
                    self.notes.append(f"stand-in {name} for {migration.name}: {exc}"[:200])
        return installed

    def replay_partly(self, migration: Any) -> None:
        """Each statement on its own, past errors (the verifier's partial replay), then the
        history row: the next migrations get their chance, this one has no capture."""
        import psycopg
        from pglast import ast

        from migration_rollback.sql import classify
        from migration_rollback.verify.standins.install import Platform

        with self.connect() as conn:
            platform = Platform(conn)
            for stmt in _statements(migration.path):
                if isinstance(stmt.node, ast.TransactionStmt):
                    continue
                try:
                    if classify(stmt).transactional:
                        with conn.transaction():
                            platform.run(stmt)
                    else:
                        platform.run(stmt)
                except psycopg.Error:
                    continue
            conn.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name) "
                "VALUES (%s, %s) ON CONFLICT (version) DO NOTHING",
                [migration.version, migration.name[len(migration.version) + 1 :]],
            )

    # -- counting ---------------------------------------------------------------------------

    def generate(self) -> None:
        done = cli(["generate"], self.gen_dir, self.url)
        if done.returncode not in (0, 1):
            self.notes.append(f"generate exit {done.returncode}: {done.stderr.strip()[-200:]}")

    def count(self) -> list[dict[str, Any]]:
        from migration_rollback.project.migrations import discover, read_regular_file
        from migration_rollback.runner.options import MigrationId
        from migration_rollback.runner.restore import prepare_restore
        from migration_rollback.runner.rollback_file import parse_rollback

        folder = self.gen_dir / MIGRATIONS
        recorded = self.history()
        rows = []
        with self.connect() as conn:
            for migration in discover(folder):
                row: dict[str, Any] = {
                    "migration": migration.name,
                    "applied": migration.version in recorded
                    and migration.version not in self.failed,
                    "failed": self.failed.get(migration.version),
                }
                rows.append(row)
                path = folder / f"{migration.name}_rollback.sql"
                if migration.problem is not None or not path.is_file():
                    row["note"] = "no rollback file"
                    continue
                try:
                    source = parse_rollback(
                        MigrationId.parse(migration.name), str(path), read_regular_file(path)
                    )
                except Exception as exc:
                    row["note"] = f"rollback not usable: {exc}"[:200]
                    continue
                restore = prepare_restore(conn, [source], folder, "fail")
                left = restore.unanswered([source])[0]
                row.update(_data_markers(source, left, restore, folder, row["applied"]))
        return rows


def _statements(path: Path) -> list[Any]:
    from migration_rollback.sql import parse_script

    try:
        return list(parse_script(path.read_text(encoding="utf-8"), str(path)).statements)
    except Exception:
        return []


def _unloadable(migration: Any) -> bool:
    # `apply` refuses a pending version shared by several files (migration.duplicate).
    problem = migration.problem or migration.duplicate
    return problem is not None or not _statements(migration.path)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "?"


def _data_markers(
    source: Any, left: Any, restore: Any, folder: Path, applied: bool
) -> dict[str, Any]:
    """Which MANUAL markers are data ones (before), which of them remain (after), and why."""
    from pglast import ast

    from migration_rollback.runner.capture_plan import CaptureKind
    from migration_rollback.runner.restore_captures import (
        DATA_STATEMENTS,
        forward_statements,
        groups_of,
    )

    groups = groups_of(source)
    forward = forward_statements(source, folder)
    remaining = {m.line for m in left.manual}

    def kind_of(marker: Any) -> str | None:
        group = next((g for g in groups if g.start < marker.line < g.end), None)
        statement = forward.get(group.forward_line) if group is not None else None
        node = statement.node if statement is not None else None
        if isinstance(node, DATA_STATEMENTS):
            return "capture"
        if isinstance(node, ast.AlterTableStmt) and _ALTER_DATA.search(marker.text):
            return "capture"
        if _OTHER_DATA.search(marker.text):
            return "other"
        return None

    before_lines: dict[int, str] = {}
    for marker in source.manual:
        kind = kind_of(marker)
        if kind is not None:
            before_lines[marker.line] = kind
    reasons: list[str] = []
    seen_groups: set[int] = set()
    for line, kind in before_lines.items():
        if line not in remaining or kind != "capture":
            continue
        group = next(g for g in groups if g.start < line < g.end)
        if group.start in seen_groups:
            continue
        seen_groups.add(group.start)
        found = [
            c
            for c in restore.captures
            if c.line == group.forward_line and c.kind is not CaptureKind.SEQUENCE
        ]
        reasons.append(_reason(found, forward.get(group.forward_line), applied))
    capture_before = [n for n, k in before_lines.items() if k == "capture"]
    other_before = [n for n, k in before_lines.items() if k == "other"]
    return {
        "before": bool(capture_before),
        "after": any(n in remaining for n in capture_before),
        "wide_before": bool(before_lines),
        "wide_after": any(n in remaining for n in before_lines),
        "data_markers": len(capture_before),
        "other_data_markers": len(other_before),
        "reasons": reasons,
    }


def _reason(found: list[Any], statement: Any, applied: bool) -> str:
    """Why a data statement's MANUAL item stays, grouped (table names taken out)."""
    if not applied:
        return "migration failed to apply: no capture"
    if not found:
        return "no capture row: the target did not exist when the statement ran"
    refused = [c for c in found if not c.usable]
    if refused:
        text = str(refused[0].reason or refused[0].status)
        if "has no primary key" in text:
            return "table has no primary key or NOT NULL unique key"
        if text.startswith("deleting here cascades"):
            return "DELETE/MERGE cascades to other tables (ON DELETE CASCADE / SET NULL)"
        return text.split(":")[0]
    from pglast import ast

    if statement is not None and isinstance(statement.node, ast.AlterTableStmt):
        return "ALTER TABLE with other subcommands: captures kept, marker not answered"
    return "captured, but the marker is not answered"


def run_one(folder: Path) -> dict[str, Any]:
    """Everything for one project; the cluster is removed on the way out (also on SIGINT)."""
    import psycopg

    from migration_rollback.verify.baseline import load_baseline
    from migration_rollback.verify.cluster import temporary_cluster

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="corpus-share-") as tmp, temporary_cluster() as c:
        with psycopg.connect(c.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        url = c.url(DATABASE)
        with psycopg.connect(url, autocommit=True) as conn:
            baseline_notes = load_baseline(conn)
            # The Supabase CLI's history table (the baseline has it; apply would create it).
            conn.execute(
                "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations "
                "(version text PRIMARY KEY, statements text[], name text)"
            )
        project = Project(folder, Path(tmp), url)
        project.apply_all()
        project.generate()
        rows = project.count()
        return {
            "project": folder.name,
            "server": f"PostgreSQL {c.major}",
            "seconds": round(time.monotonic() - started, 1),
            "apply_runs": project.apply_runs,
            "notes": baseline_notes + project.notes,
            "migrations": rows,
        }


# --- the corpus (parent process) --------------------------------------------------------------


def run_child(folder: Path, timeout: float, out: Path) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--one", str(folder), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # the child removes its cluster
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        return {"project": folder.name, "skipped": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0 or not out.is_file():
        return {"project": folder.name, "skipped": f"crash: {err.strip()[-400:]}"}
    doc: dict[str, Any] = json.loads(out.read_text())
    doc["wall"] = round(time.monotonic() - started, 1)
    return doc


def summarise(doc: dict[str, Any]) -> dict[str, Any]:
    rows = doc.get("migrations", [])
    before = sum(1 for r in rows if r.get("before"))
    after = sum(1 for r in rows if r.get("after"))
    applied_rows = [r for r in rows if r.get("applied")]
    return {
        "migrations": len(rows),
        "applied": len(applied_rows),
        "failed": sum(1 for r in rows if r.get("failed")),
        "before": before,
        "after": after,
        "automatic": before - after,
        "before_applied": sum(1 for r in applied_rows if r.get("before")),
        "after_applied": sum(1 for r in applied_rows if r.get("after")),
        "wide_before": sum(1 for r in rows if r.get("wide_before")),
        "wide_after": sum(1 for r in rows if r.get("wide_after")),
    }


def share(before: int, after: int) -> str:
    return f"{100 * (before - after) / before:.0f}%" if before else "-"


def report(docs: list[dict[str, Any]]) -> str:
    head = (
        "| project | migrations | applied | failed | data MANUAL before | still after | "
        "made automatic | of applied: before / after | wide before / after | s |"
    )
    lines = [head, "|" + "---|" * 10]
    total: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    reason_migrations: Counter[str] = Counter()
    for doc in docs:
        if "skipped" in doc:
            lines.append(f"| {doc['project']} | skipped: {doc['skipped'][:120]} |" + " |" * 8)
            continue
        s = summarise(doc)
        total.update(s)
        for row in doc["migrations"]:
            reasons.update(row.get("reasons", []))
            reason_migrations.update(set(row.get("reasons", [])))
        lines.append(
            f"| {doc['project']} | {s['migrations']} | {s['applied']} | {s['failed']} | "
            f"{s['before']} | {s['after']} | {s['automatic']} ({share(s['before'], s['after'])})"
            f" | {s['before_applied']} / {s['after_applied']} | "
            f"{s['wide_before']} / {s['wide_after']} | {doc.get('wall', '')} |"
        )
    lines.append(
        f"| **total** | {total['migrations']} | {total['applied']} | {total['failed']} | "
        f"{total['before']} | {total['after']} | {total['automatic']} "
        f"({share(total['before'], total['after'])}) | "
        f"{total['before_applied']} / {total['after_applied']} "
        f"({share(total['before_applied'], total['after_applied'])}) | "
        f"{total['wide_before']} / {total['wide_after']} "
        f"({share(total['wide_before'], total['wide_after'])}) | |"
    )
    lines += ["", "Why a data MANUAL item stays (statements; migrations):"]
    for reason, count in reasons.most_common(12):
        lines.append(f"  {count:4d} ; {reason_migrations[reason]:4d}  {reason}")
    return "\n".join(lines) + "\n"


def projects_in(corpus: Path, wanted: list[str], with_down: bool) -> list[Path]:
    found = sorted(p for p in corpus.iterdir() if (p / MIGRATIONS).is_dir())
    if not with_down:  # the hand-written up/down projects are not Supabase projects
        found = [p for p in found if not (p / "down").is_dir()]
    if wanted:
        found = [p for p in found if any(w.lower() in p.name.lower() for w in wanted)]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--project", action="append", default=[], help="name substring")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per project")
    parser.add_argument(
        "--with-down", action="store_true", help="also the 3 up/down (non-Supabase) projects"
    )
    parser.add_argument("--json", type=Path, help="write every migration's row here")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        doc = run_one(args.one)
        args.out.write_text(json.dumps(doc, indent=1))
        return 0
    if not args.corpus.is_dir():
        print(f"{args.corpus}: no corpus; run bench/corpus/rebuild.py", file=sys.stderr)
        return 3
    docs = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="corpus-share-out-") as tmp:
        for folder in projects_in(args.corpus, args.project, args.with_down):
            doc = run_child(folder, args.timeout, Path(tmp) / f"{folder.name}.json")
            docs.append(doc)
            brief = doc.get("skipped") or summarise(doc)
            print(f"{folder.name}: {brief}", file=sys.stderr, flush=True)
    print(report(docs))
    print(f"{len(docs)} projects, {time.monotonic() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(docs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
