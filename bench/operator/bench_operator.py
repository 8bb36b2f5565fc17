"""Benchmark: N MigrationRollbacks at once across N namespaces, on the local control plane.

Prints the operator's peak memory (VmHWM), its CPU time and API requests per rollback, the
per-rollback timings (downtime, SQL, the Job's run time, the pods' return, and the
coordination overhead the issue sets a target for: downtime minus Job minus ScaleUp), and the
timeline of every hand-off in the window (bench/operator/timeline.py): who acts in each gap,
the operator or the control plane, with the median per gap. The operator's own action
latencies (its API writes as its client saw them) and its decisions come from its metrics.

Run: `python bench/operator/bench_operator.py [N]` (default 50; about 3 minutes on 2 cores).
Figures from different load averages do not compare: both ends' are printed.

The cluster's node agent is kwok, run with 100 pod workers (tests/cluster/README.md, "How many
pods kwok works at once"): kwok's default, 4 workers for every kwok node together, made the
40 pods of 20 rollbacks wait their turn, which no cluster of kubelets does.
`MIGRATION_ROLLBACK_KWOK_POD_PARALLELISM=4` gives kwok's default back to compare.

The controller manager runs with the binary's own client limits (tests/cluster/limits.py:
--kube-api-qps 20 --kube-api-burst 30 per controller), as CI does; `--limits production` runs
production-like ones (100 and 100) to compare. The first line says which ran, and the
controller manager's block how long its requests waited in their clients' rate limiters and
its Deployment, ReplicaSet and Job queues for a worker (bench/operator/throttling.py).

What it showed (2026-12-02, 20 at once, load 3.5 to 14 from others' work): coordination
2.0 to 2.5 s at the median, of which the operator's own hops (its scale, its decision on the
last pod's end) 0.3 s and the control plane's chain (Deployment controller, ReplicaSet
controller, kwok) the rest; one rollback alone: 0.05 s. Every core was busy the whole run:
the Job processes (about 0.6 CPU-s each, 40 of them) took 43% of the machine, others' work
30%, the API server 13%, the operator 5%. (One Job process alone, bench/operator/bench_job.py:
0.62 CPU-s before the cut of its start-up, 0.47 after: no pydantic, no generator.) Raising the
controller manager's client limits (--kube-api-qps 500) changed nothing at 20: its controllers
wait for a core, not for their rate limiter. Measured again with the throttling printed
(2026-12-02, 13 runs of each setting, interleaved, load 3 to 16): the upstream limits made
the controller manager's requests wait 4 to 38 s in all per run, nearly all outside the
scale-down; the coordination median was 2.07 s (median of the runs' medians) upstream and
2.10 s production-like: no difference the noise lets show. At 50 the Job controller's pod
creation is the slow hop (15 s at the median; 10 s in both settings on 2026-12-02, its work
items waiting 5.9 to 6.4 s on average for one of its 5 workers, not for its rate limiter).

Deleting a ReplicaSet's pods as soon as its watch shows it at 0 (not waiting for its
controller to begin) was measured on 2026-12-01 and not kept: the ReplicaSet controller
deletes them as soon as the operator could, and one it has not yet seen at 0 replaces a pod
deleted under it (lifecycle.phase_window._hurry_pods). Measured again on 2026-12-02 (load 10
to 12): deleting them right after the operator's own patch of the ReplicaSet to 0 answered
(persisted, but its controller's informer may not have it: the ReplicaSet and pod watches are
separate streams with no order between them) left the first pod deleting 1.3 s after the zero,
no sooner than its controller (1.5 s in the run before): the API server was the slow hop.

Setting a Deployment's ReplicaSets to 0 from the operator right after the Deployment's scale
(skipping the Deployment controller's turn) was built and measured on 2026-12-02 and not kept:
at 50 at once (load 11 to 17) one ReplicaSet went back above 0 in the window (a Deployment
controller that had not yet seen its Deployment at 0 undoing the zero: the Deployment and
ReplicaSet watches are separate streams), and at 20 the row it shortens was 0.3 to 0.56 s
against the controller's 0.48 s, the chain staying bound by the ReplicaSet controller and
kwok. The last two lines count what must stay 0: a ReplicaSet back above 0 in the window, and
an app pod created in the window (a replacement for a pod deleted too soon).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
import urllib3
from kubernetes import client, watch

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "e2e" / "operator"), str(HERE)]

import throttling  # noqa: E402
from scenario import OperatorProcess  # noqa: E402
from tests.cluster import ControlPlane  # noqa: E402
from tests.cluster import limits as cluster_limits  # noqa: E402
from timeline import (  # noqa: E402
    Timeline,
    breakdown,
    coordination_shares,
    marks,
    pods_added_in_window,
    replica_sets_back_up,
)

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
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
# The operator's histograms read as sum / count: its actions by kind, its decisions.
HISTOGRAMS = ("migration_rollback_action_seconds", "migration_rollback_decision_seconds")


def seconds(a: str, b: str) -> float:
    return (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds()


def step(status: Mapping[str, Any], name: str) -> float:
    for s in status.get("steps", []):
        if s["name"] == name and s.get("finishedAt"):
            return seconds(s["startedAt"], s["finishedAt"])
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far, with its children's it has waited for
    (the job executor's: the Job processes)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy (not idle, not waiting on I/O)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(cp: ControlPlane, operator: OperatorProcess) -> dict[str, float]:
    """Each process's CPU seconds so far: the control plane's, the operator's, this bench's
    own, and the whole machine's (the rest is other work on it and PostgreSQL)."""
    assert operator.proc is not None
    taken = {p.name: cpu_seconds(p.pid) for p in cp.procs}
    taken["operator"] = cpu_seconds(operator.proc.pid)
    taken["bench (watches, polling)"] = sum(os.times()[:2])
    taken["machine"] = machine_busy_seconds()
    return taken


def cpu_lines(before: Mapping[str, float], after: Mapping[str, float], wall: float) -> list[str]:
    used = {name: after[name] - before[name] for name in after}
    machine = used.pop("machine")
    named = sum(v for v in used.values() if v == v)
    lines = [f"CPU seconds during the run ({wall:.0f} s wall, {os.cpu_count()} cores):"]
    for name, seconds in sorted(used.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name:28} {seconds:6.1f} s")
    lines.append(f"  {'anything else (PostgreSQL, other work)':28} {machine - named:6.1f} s")
    return lines


def row(name: str, values: Sequence[float]) -> str:
    p90 = sorted(values)[max(0, int(len(values) * 0.9) - 1)]
    median = statistics.median(values)
    return f"{name:40} median {median:6.2f} s   p90 {p90:6.2f} s   max {max(values):6.2f} s"


def scrape(operator: OperatorProcess) -> dict[str, float]:
    """Every sample of the operator's metrics, by its name and labels."""
    samples: dict[str, float] = {}
    for line in operator.metrics().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


def setup(count: int, pg: Any, k8s: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(k8s), client.AppsV1Api(k8s)
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


def run_all(count: int, custom: client.CustomObjectsApi) -> dict[int, dict[str, Any]]:
    """Create every rollback at once; their final statuses once each is terminal."""
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
    return wait_terminal(count, custom)


def wait_terminal(count: int, custom: client.CustomObjectsApi) -> dict[int, dict[str, Any]]:
    """Each rollback's final status, from one watch (a poll of each would load the API
    server the bench measures), resumed where it ends before all are terminal (the API server
    closes a watch when it likes: the run must not be reported half done)."""
    done: dict[int, dict[str, Any]] = {}
    version: str | None = None
    deadline = time.monotonic() + 1800
    while len(done) < count and time.monotonic() < deadline:
        w = watch.Watch()  # type: ignore[no-untyped-call]
        since = {"resource_version": version} if version else {}
        try:
            for event in w.stream(  # type: ignore[no-untyped-call]
                custom.list_cluster_custom_object,
                api.GROUP,
                api.VERSION,
                api.PLURAL,
                timeout_seconds=300,
                **since,
            ):
                obj = event["object"]
                version = str(obj["metadata"].get("resourceVersion") or "") or version
                status = obj.get("status") or {}
                if status.get("phase") in ("Succeeded", "Failed"):
                    done[int(obj["metadata"]["namespace"].removeprefix("bench-"))] = status
                if len(done) == count:
                    w.stop()  # type: ignore[no-untyped-call]
        except (client.exceptions.ApiException, urllib3.exceptions.HTTPError) as exc:
            # Too old (410), or newer than a loaded API server's watch cache has yet (504),
            # or the stream cut: listed again.
            print(f"bench: watch of the rollbacks ended ({exc}); listing again", file=sys.stderr)
            version = None
    return done


def operator_lines(before: dict[str, float], after: dict[str, float], count: int) -> list[str]:
    """API requests per rollback by method; each kind of action's and decision's mean time
    and count per rollback, from the histograms' sums and counts."""

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    per = {m: delta(f'migration_rollback_api_requests_total{{method="{m}"}}') / count
           for m in METHODS}  # fmt: skip
    lines = [
        f"API requests per rollback (its client): {sum(per.values()):6.1f}",
        "  by method: " + ", ".join(f"{m} {n:.1f}" for m, n in per.items()),
        "operator's own latencies (mean as its client saw them; count per rollback):",
    ]
    for key in sorted(k for k in after if k.startswith(HISTOGRAMS) and "_count" in k):
        n = delta(key)
        if n:
            total = delta(key.replace("_count", "_sum"))
            label = re.sub(r"migration_rollback_|_count", "", key)
            lines.append(f"  {label:52} {1000 * total / n:7.1f} ms  x{n / count:.1f}")
    return lines


def report(done: dict[int, dict[str, Any]], count: int, timeline: Timeline) -> list[str]:
    ok = {i: s for i, s in done.items() if s["phase"] == "Succeeded"}
    statuses = list(ok.values())
    downtime = [s["metrics"]["downtimeSeconds"] for s in statuses]
    sql = [s["metrics"].get("sqlSeconds", 0.0) for s in statuses]
    job = [step(s, "Rollback") for s in statuses]
    scale_up = [step(s, "ScaleUp") for s in statuses]
    coordination = [d - j - u for d, j, u in zip(downtime, job, scale_up, strict=True)]
    rows = [marks(timeline.of(f"bench-{i}"), s) for i, s in ok.items()]
    return [
        f"rollbacks: {len(ok)}/{count} succeeded",
        row("downtime", downtime),
        row("SQL time (transaction)", sql),
        row("rollback Job run time", job),
        row("pods back Ready (ScaleUp)", scale_up),
        row("coordination = downtime - Job - ScaleUp", coordination) + "   (target <= 1 s)",
        *coordination_shares(rows),
        *breakdown(rows),
        "ReplicaSets back above 0 after they were seen at 0, in the window: "
        f"{sum(replica_sets_back_up(timeline.of(f'bench-{i}'), s) for i, s in ok.items())}",
        "app pods created in the window (a replacement for a pod deleted too soon): "
        f"{sum(pods_added_in_window(timeline.of(f'bench-{i}'), s) for i, s in ok.items())}",
    ]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=50, help="rollbacks at once")
    parser.add_argument(
        "--limits",
        choices=sorted(cluster_limits.LIMITS),
        help="the controller manager's client limits (tests/cluster/limits.py; default: "
        f"${cluster_limits.LIMITS_ENV} or {cluster_limits.DEFAULT.name})",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    count: int = args.count
    work = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    pg = create_cluster()
    print(f"database: temporary cluster, {pg.placement}")
    cp = ControlPlane(limits=cluster_limits.LIMITS[args.limits] if args.limits else None)
    cp.start()
    print(f"control plane: {cp.limits.describe()}; kwok pod workers {cp.kwok_pod_parallelism}")
    operator = OperatorProcess(cp.kubeconfig, work / "operator.log")
    try:
        k8s = cp.api_client()
        client.CoreV1Api(k8s).create_namespace({"metadata": {"name": "migration-rollback-system"}})
        operator.start()
        assert operator.proc is not None
        setup(count, pg, k8s)
        timeline = Timeline(cp.api_client(), "app=web").start()
        before, cpu_before = scrape(operator), cpu_snapshot(cp, operator)
        cm_before = throttling.parse(cp.component_page("/metrics"))
        load, started = os.getloadavg(), time.monotonic()
        done = run_all(count, client.CustomObjectsApi(k8s))
        wall = time.monotonic() - started
        after, cpu_after = scrape(operator), cpu_snapshot(cp, operator)
        cm_after = throttling.parse(cp.component_page("/metrics"))
        timeline.stop()
        print(f"{count} rollbacks at once: all terminal in {wall:.1f} s wall clock")
        print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}".format(*load))
        print("load average (1, 5, 15 min) at end:   {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print(f"operator peak memory (VmHWM): {peak_rss_mb(operator.proc.pid):6.1f} MB (<= 150)")
        used = cpu_after["operator"] - cpu_before["operator"]
        print(f"operator CPU per rollback:    {used / count:6.2f} s")
        print("\n".join(cpu_lines(cpu_before, cpu_after, wall)))
        print("\n".join(operator_lines(before, after, count)))
        print("\n".join(throttling.lines(cm_before, cm_after)))
        print("\n".join(report(done, count, timeline)))
        print(f"operator log: {work / 'operator.log'}")
    finally:
        operator.stop()
        cp.stop()
        pg.stop()


if __name__ == "__main__":
    main()
