"""The rollback Job's process loads what `execute` uses and nothing else (its start cost).

Every rollback waits for this process while the application is down; at 20 rollbacks at once
the Job processes took 43% of the machine. Importing the rollback generator's rule tables,
pydantic (typer's runtime checks of option values) or the verifier and Kubernetes clients
was CPU spent on the critical path for nothing (bench/operator/bench_job.py measures it).
The Job's own command line (kube/jobs.py job_args) runs to its end here, on a real database,
and the modules loaded by then are checked, so imports made inside functions count too.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from runner_support import TIMELINE, Project, timeline_project

from migration_rollback.kube.jobs import JobRequest, job_args

# Loaded by no step of `execute`: generation, verification, the operator's side, rich output,
# and typer's pydantic checks (cli/plain_argv.py reads the Job's plain command line).
NEVER = (
    "migration_rollback.sql.generator",
    "migration_rollback.sql.rules",
    "migration_rollback.sql.history",
    "migration_rollback.verify",
    "migration_rollback.kube",
    "migration_rollback.controller",
    "migration_rollback.lifecycle",
    "kubernetes",
    "kopf",
    "pydantic",
    "rich",
)
# Runs `migration-rollback` as the console script does; writes the loaded modules at exit.
RUN = """
import atexit, json, sys
out = sys.argv.pop()
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["migration-rollback", *sys.argv[1:]]
from migration_rollback.cli import main
main()
"""


def _job_line(project: Project, rollback: Path) -> list[str]:
    digest = hashlib.sha256(rollback.read_bytes()).hexdigest()
    req = JobRequest(
        name="t", namespace="t", owner={}, image="i", migration=TIMELINE, sql_config_map="c",
        sha256=digest, url_secret="s", url_key="url",
        history_table="supabase_migrations.schema_migrations", dry_run=True,
        backup_mode="none", backup_pvc=None, max_age="1h", lock_timeout="5s",
        statement_timeout="1m", allow_data_loss=False, allow_manual=False, purge=False,
        timeout_seconds=60, actor="t",
    )  # fmt: skip
    args = job_args(req)
    # The Job reads the file from its mounted ConfigMap and writes its result to its own paths.
    args[args.index("--rollback-file") + 1] = str(rollback)
    args[args.index("--result-file") + 1] = str(project.root / "result.json")
    return args


def test_the_jobs_execute_loads_no_generator_verifier_kube_or_pydantic(project: Project) -> None:
    timeline_project(project)
    rollback = project.migrations / f"{TIMELINE}_rollback.sql"
    modules_file = project.root / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUN, *_job_line(project, rollback), str(modules_file)],
        cwd=project.root, env=project.environment(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads((project.root / "result.json").read_text())["outcome"] == "dry-run-succeeded"
    loaded = json.loads(modules_file.read_text())
    heavy = [m for m in loaded if any(m == n or m.startswith(f"{n}.") for n in NEVER)]
    assert heavy == []
    # What it needs is there: the check above is not vacuous.
    assert {"psycopg", "pglast", "migration_rollback.runner.run"} <= set(loaded)
