"""Prints the local control plane's figures: build time, start-to-ready time, memory.

    python -m tests.cluster.figures [--runs N] [--settle SECONDS]   (or tests/cluster/figures.sh)

* cold build: the build time build.sh recorded when it built the cached binary, with whether
  Go's build cache was empty then (only then is it a cold build);
* warm start-to-ready: ``ControlPlane.start()`` from nothing (new PKI, empty etcd) with the
  binary already built, until every readiness check passes, over ``--runs`` starts;
* memory: the resident set size (VmRSS) of every process of the cluster (etcd, API server,
  controller manager, scheduler, kwok, job executor), ``--settle`` seconds after it is ready.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from .controlplane import BUILD_SCRIPT, ControlPlane, find_binaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.figures")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0)
    args = parser.parse_args(argv)

    bin_dir = find_binaries()
    info = json.loads(
        subprocess.run([str(BUILD_SCRIPT), "--info"], capture_output=True, text=True).stdout
    )
    cache = info.get("go_build_cache", "unknown")
    print(
        f"cold build: {info['build_seconds']:.0f} s (Kubernetes {info['kubernetes']}, kwok "
        f"{info['kwok']}, etcd {info['etcd']}, {info['go']}, {info['nproc']} cores, Go build "
        f"cache {cache} then, built {info['built_at']}; binary {info['binary_bytes'] / 2**20:.0f} "
        f"MiB: {bin_dir}/kube-local)"
    )

    times: list[float] = []
    rss: dict[str, int] = {}
    for run in range(args.runs):
        cp = ControlPlane(bin_dir=bin_dir)
        try:
            cp.start()
            times.append(cp.timings["ready"])
            print(f"start {run + 1}: ready in {cp.timings['ready']:.1f} s", flush=True)
            if run == args.runs - 1:
                time.sleep(args.settle)
                rss = cp.rss_bytes()
        finally:
            cp.stop()
    print(
        f"warm start-to-ready: median {statistics.median(times):.1f} s "
        f"(min {min(times):.1f}, max {max(times):.1f}, {len(times)} starts)"
    )
    parts = ", ".join(f"{name} {size / 2**20:.0f}" for name, size in rss.items())
    print(
        f"memory: {sum(rss.values()) / 2**20:.0f} MiB RSS in all, {args.settle:.0f} s after "
        f"ready (MiB: {parts})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
