"""Dump everything the engine decides, to diff before and after a speed change.

A faster engine must decide exactly what the slower one did: per project (the real-world
corpus, the examples, a synthetic project, the unit cases), every forward statement's
classification, every rollback step, the written rollback and its Markdown (generated with a
fixed clock into a copy), and `validate`'s reports, also of the hand-written down migrations of
the corpus's down-migration projects. One JSON document per line, sorted keys: `diff` the dumps.

Run: `.venv/bin/python bench/engine_golden.py OUT [--corpus DIR]` (default corpus:
`~/.cache/migration-rollback/corpus`, built by `bench/corpus/rebuild.py`; absent: skipped).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from migration_rollback.errors import ProjectError, SqlSyntaxError, UnsafeOutputError
from migration_rollback.project.generation import generate_one
from migration_rollback.project.validation import validate_all
from migration_rollback.project.workspace import load
from migration_rollback.sql import generate_rollback, parse_script
from migration_rollback.sql.classify import classify
from migration_rollback.sql.model import ObjectRef, RollbackStep, Statement
from synthetic import write_project

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _ref(ref: ObjectRef | None) -> str | None:
    return None if ref is None else ref.key


def _statement(st: Statement) -> dict[str, Any]:
    c = classify(st)
    return {
        "at": f"{st.location.file}:{st.location.line}:{st.location.column}",
        "text": st.text,
        "kind": st.kind,
        "class": [c.transactional, c.destroys_data, int(c.lock), c.needs_manual, c.notes],
        "targets": [t.key for t in c.targets],
    }


def _step(step: RollbackStep) -> dict[str, Any]:
    manual = step.manual
    return {
        "forward": step.forward.location.line,
        "sql": step.sql,
        "manual": None
        if manual is None
        else [str(manual.need), manual.reason, _ref(manual.target), _ref(manual.was)],
        "flags": [step.transactional, step.destroys_data, int(step.lock)],
        "notes": step.notes,
        "recreates": _ref(step.recreates),
    }


def project_records(name: str, directory: Path, downs: Path | None) -> Iterator[dict[str, Any]]:
    try:
        loaded = load(directory)
    except ProjectError as exc:
        yield {"project": name, "error": str(exc)}
        return
    for item in loaded:
        record: dict[str, Any] = {"project": name, "migration": item.migration.name}
        record["error"] = None if item.error is None else str(item.error)
        if item.script is not None and item.plan is not None:
            record["statements"] = [_statement(st) for st in item.script.statements]
            record["steps"] = [_step(s) for s in item.plan.steps]
            record["warnings"] = item.plan.warnings
        result = generate_one(item, force=True, now=NOW)
        record["generate"] = [str(result.outcome), result.message, result.manual_items]
        for path in (item.migration.rollback_path, item.migration.doc_path):
            record[path.suffix] = path.read_text() if path.exists() else None
        yield record
    for report in validate_all(loaded):
        yield {"project": name, "validate": report.to_json()}
    if downs is not None:
        for item in loaded:
            down = downs / item.migration.path.name
            if down.exists():
                shutil.copyfile(down, item.migration.rollback_path)
        for report in validate_all(load(directory)):
            yield {"project": name, "validate_down": report.to_json()}


def case_records(cases: Path) -> Iterator[dict[str, Any]]:
    """The unit cases, each on its own (no history), as the engine's pure API sees them."""
    for path in sorted(cases.glob("*.sql")):
        record: dict[str, Any] = {"case": path.name}
        try:
            script = parse_script(path.read_text(), path.name)
            plan = generate_rollback(script, path.stem)
            record["statements"] = [_statement(st) for st in script.statements]
            record["body"] = plan.render_body()
            record["steps"] = [_step(s) for s in plan.steps]
        except (SqlSyntaxError, UnsafeOutputError) as exc:
            record["error"] = str(exc)
        yield record


def projects(corpus: Path) -> Iterator[tuple[str, Path, Path | None]]:
    yield "examples", ROOT / "examples" / "supabase" / "migrations", None
    if corpus.is_dir():
        for entry in sorted(corpus.iterdir()):
            migrations = entry / "supabase" / "migrations"
            if migrations.is_dir():
                downs = entry / "down"
                yield entry.name, migrations, downs if downs.is_dir() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--corpus", type=Path, default=Path.home() / ".cache/migration-rollback/corpus"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, options.out.open("w") as out:
        synthetic = Path(tmp) / "synthetic"
        write_project(synthetic, 300)
        found = [*projects(options.corpus), ("synthetic", synthetic, None)]
        for name, source, downs in found:
            copy = Path(tmp) / "copies" / name
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*_rollback.*"))
            for record in project_records(name, copy, downs):
                out.write(json.dumps(record, sort_keys=True).replace(tmp, "<tmp>") + "\n")
        for record in case_records(ROOT / "tests" / "unit" / "sql" / "cases"):
            out.write(json.dumps(record, sort_keys=True) + "\n")
        print(f"{options.out}: {len(found)} projects and the unit cases")


if __name__ == "__main__":
    main()
