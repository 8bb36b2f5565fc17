"""Benchmark: N MigrationRollbacks at once across N namespaces, on the local control plane.

Prints the operator's peak memory (VmHWM), the API requests its client sent per rollback, and
per-rollback timings: downtime, SQL time, the Job's run time, the wait for pods to come back,
and the operator's own overhead (downtime minus SQL time minus pod restart time, as the issue
defines it; and downtime minus Job run time minus pod restart time, which removes the Job's
process start-up too). Targets: overhead under 2 s, memory under 150 MB.

Run: `python bench/operator/bench_operator.py [N]` (default 50; about 3 minutes on 2 cores).

The cluster's node agent is kwok, run with 100 pod workers (tests/cluster/README.md, "How many
pods kwok works at once"): kwok's default, 4 workers for every kwok node together, made the
40 pods of 20 rollbacks wait their turn, which no cluster of kubelets does. The operator and
this measurement are the same either way; `MIGRATION_ROLLBACK_KWOK_POD_PARALLELISM=4` gives
kwok's default back to compare. With 20 rollbacks (2026-12-01, load
average 2 to 11 from others' work): the scale-down's "last pod gone" row, median / max, was
2.83 / 5.67, 0.58 / 1.92 and 1.71 / 3.32 s with 4 workers, 0.63 to 1.29 / 1.19 to 2.55 s over
five runs with 100; coordination's median 1.5 to 4.7 s against 1.9 to 3.7 s.

Coordination is the scale-down's wait: the operator's scale, the Deployment controller scaling
the ReplicaSet, the ReplicaSet controller deleting the pods, kwok removing them, each a write
through the loaded API server. Deleting a ReplicaSet's pods as soon as its watch shows it at 0
(not waiting for its controller) was measured against main, alternating runs at load 6 to 10:
median 2.75 / 2.99 s against 2.69 / 2.08 s (2026-12-01): the ReplicaSet controller deletes the
pods as soon as the operator could, so the change was not kept. The load average is printed
with each run, as figures from different loads do not compare.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from kubernetes import client

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "e2e" / "operator"), str(HERE)]

from scaledown_trace import Timeline, breakdown  # noqa: E402
from scenario import OperatorProcess  # noqa: E402
from tests.cluster import ControlPlane  # noqa: E402

from migration_rollback import api  # noqa: E402
from migration_rollback.verify.cluster import create_cluster  # noqa: E402

SQL = """-- ROLLBACK: 20250101000001_bench
DROP INDEX IF EXISTS public.idx_items_name;
"""
SCHEMA = """
CREATE SCHEMA supabase_migrations;
CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, name text);
INSERT INTO supabase_migrations.schema_migrations VALUES ('20250101000001', 'bench');
CREATE TABLE public.items (id int PRIMARY KEY, name text);
CREATE INDEX idx_items_name ON public.items (name);
"""


def seconds(a: str, b: str) -> float:
    return (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()


def step(status: dict[str, Any], name: str) -> float:
    for s in status.get("steps", []):
        if s["name"] == name and s.get("finishedAt"):
            return seconds(s["startedAt"], s["finishedAt"])
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    work = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    pg = create_cluster()
    cp = ControlPlane()
    cp.start()
    operator = OperatorProcess(cp.kubeconfig, work / "operator.log")
    try:
        k8s = cp.api_client()
        core, apps = client.CoreV1Api(k8s), client.AppsV1Api(k8s)
        custom = client.CustomObjectsApi(k8s)
        core.create_namespace({"metadata": {"name": "migration-rollback-system"}})
        operator.start()
        for i in range(count):
            ns, db = f"bench-{i}", f"bench_{i}"
            with psycopg.connect(pg.url(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {db}")  # type: ignore[call-overload]
            with psycopg.connect(pg.url(db), autocommit=True) as conn:
                conn.execute(SCHEMA)  # type: ignore[call-overload]
            core.create_namespace({"metadata": {"name": ns}})
            core.create_namespaced_secret(
                ns, {"metadata": {"name": "db"}, "stringData": {"url": pg.url(db)}}
            )
            labels = {"app": "web"}
            pod = {"containers": [{"name": "web", "image": "web:1"}]}
            apps.create_namespaced_deployment(ns, {
                "metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels}, "spec": pod}},
            })  # fmt: skip
        methods = ("GET", "POST", "PATCH", "PUT", "DELETE")
        before = {
            m: operator.metric("migration_rollback_api_requests_total", f'method="{m}"')
            for m in methods
        }
        total_before = sum(before.values())
        timeline = Timeline(cp.api_client(), "app=web").start()
        load = os.getloadavg()
        started = time.monotonic()
        for i in range(count):
            body = {
                "apiVersion": api.API_VERSION,
                "kind": api.KIND,
                "metadata": {"name": "undo"},
                "spec": {
                    "migration": "20250101000001_bench",
                    "rollback": {"sql": SQL},
                    "database": {"urlSecretRef": {"name": "db"}},
                    "workloads": [{"name": "web"}],
                    "backup": {"mode": "none"},
                },
            }
            custom.create_namespaced_custom_object(
                api.GROUP, api.VERSION, f"bench-{i}", api.PLURAL, body
            )
        done: dict[int, dict[str, Any]] = {}
        while len(done) < count and time.monotonic() - started < 1800:
            for i in range(count):
                if i in done:
                    continue
                obj = custom.get_namespaced_custom_object(
                    api.GROUP, api.VERSION, f"bench-{i}", api.PLURAL, "undo"
                )
                if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                    done[i] = obj["status"]
            time.sleep(1)
        wall = time.monotonic() - started
        after = {
            m: operator.metric("migration_rollback_api_requests_total", f'method="{m}"')
            for m in methods
        }
        total_after = sum(after.values())
        assert operator.proc is not None
        peak = peak_rss_mb(operator.proc.pid)
        ok = [s for s in done.values() if s["phase"] == "Succeeded"]
        downtime = [s["metrics"]["downtimeSeconds"] for s in ok]
        sql = [s["metrics"].get("sqlSeconds", 0.0) for s in ok]
        job = [step(s, "Rollback") for s in ok]
        scale_up = [step(s, "ScaleUp") for s in ok]
        overhead = [d - q - u for d, q, u in zip(downtime, sql, scale_up, strict=True)]
        coordination = [d - j - u for d, j, u in zip(downtime, job, scale_up, strict=True)]

        def row(name: str, values: list[float]) -> str:
            p90 = sorted(values)[max(0, int(len(values) * 0.9) - 1)]
            median = statistics.median(values)
            return f"{name:38} median {median:6.2f} s   p90 {p90:6.2f} s   max {max(values):6.2f} s"

        print(f"rollbacks: {len(ok)}/{count} succeeded in {wall:.1f} s wall clock")
        print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}".format(*load))
        print("load average (1, 5, 15 min) at end:   {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print(f"operator peak memory (VmHWM):          {peak:6.1f} MB   (target < 150 MB)")
        print(
            f"API requests per rollback (its client): {(total_after - total_before) / count:6.1f}"
        )
        print("  by method: " + ", ".join(
            f"{m} {(after[m] - before[m]) / count:.1f}" for m in methods
        ))  # fmt: skip
        print(row("downtime", downtime))
        print(row("SQL time (transaction)", sql))
        print(row("rollback Job run time", job))
        print(row("pods back Ready (ScaleUp)", scale_up))
        print(row("overhead = downtime - SQL - ScaleUp", overhead) + "   (target < 2 s)")
        print(row("coordination = downtime - Job - ScaleUp", coordination))
        # Where the coordination goes: waiting for the pods to be gone, and the hand-offs
        # between steps (a finished Job noticed, the next step started).
        scale_down = [step(s, "ScaleDown") for s in ok]
        print(row("  of which ScaleDown (pods gone)", scale_down))
        print(
            row(
                "  of which hand-offs",
                [c - d for c, d in zip(coordination, scale_down, strict=True)],
            )
        )
        timeline.stop()
        succeeded = {f"bench-{i}": s for i, s in done.items() if s["phase"] == "Succeeded"}
        print("\n".join(breakdown(timeline, succeeded)))
        print(f"operator log: {work / 'operator.log'}")
    finally:
        operator.stop()
        cp.stop()
        pg.stop()


if __name__ == "__main__":
    main()
