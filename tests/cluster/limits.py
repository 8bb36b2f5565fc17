"""The controller manager's client limits and sync concurrency: the one place they are set.

Why this exists: a kube-controller-manager left at its upstream defaults throttles itself
where production control planes do not. With ``--use-service-account-credentials`` every
controller (Deployment, ReplicaSet, Job, ...) has a client of its own, each with a token bucket
of ``--kube-api-qps`` (default 20) refilling a ``--kube-api-burst`` (default 30); its Events go
through the same client. The operator bench at 20 rollbacks at once measured its requests
waiting 4 to 38 s in all per run in those buckets (the Job pods' and the scale-up's pod
creations, status updates, Events), none with the limits below. Kubernetes' own scalability
tests run the controller manager with ``--kube-api-qps=100 --kube-api-burst=100`` (the release
scalability validation reports' ``CONTROLLER_MANAGER_TEST_ARGS``), and Huawei Cloud CCE's
defaults are 100 / 100 below 1,000 nodes and 200 / 200 above (its "kube-api-qps" and
"kube-api-burst" cluster parameters); both keep the sync concurrency at the upstream 5 (CCE's
"concurrent-deployment-syncs" and "concurrent-replicaset-syncs" default to 5). It did not
shorten the scale-down's chain on 2 shared cores (tests/cluster/README.md has the figures): its
controllers wait for a core there, not for their buckets. Measured on 2026-12-02 (operator
bench, 20 rollbacks at once, 13 runs of each setting interleaved, load 3 to 16): coordination
median 2.07 s upstream, 2.10 s production-like (medians of the runs' medians).

So the local cluster runs ``UPSTREAM`` (the binary's own defaults) by default, as CI always
has: the production-like limits change no figure it checks. ``PRODUCTION`` stays selectable,
to measure the controller manager's throttling with and without: ``ControlPlane(limits=...)``,
``$MIGRATION_ROLLBACK_CLUSTER_LIMITS=production``, ``up.sh --limits production`` or the
operator bench's ``--limits production``.

kwok, the simulated node agent, needs nothing here: its client has no rate limiter at all
(kwok v0.8.0 sets ``flowcontrol.NewFakeAlwaysRateLimiter``), and its pod-delete stage (kwok's
"fast" stages) deletes a pod as soon as it sees it terminating, with no delay; how many pods it
works at once is ``KWOK_POD_PARALLELISM`` (constants.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

#: Environment variable naming the limits the local cluster runs with (a key of ``LIMITS``).
LIMITS_ENV: Final = "MIGRATION_ROLLBACK_CLUSTER_LIMITS"


@dataclass(frozen=True)
class ControllerLimits:
    """One setting of the controller manager's client and worker counts."""

    name: str
    kube_api_qps: int
    kube_api_burst: int
    concurrent_deployment_syncs: int
    concurrent_replicaset_syncs: int
    concurrent_job_syncs: int

    def flags(self) -> list[str]:
        """The controller manager's command-line flags for these limits."""
        return [
            f"--kube-api-qps={self.kube_api_qps}",
            f"--kube-api-burst={self.kube_api_burst}",
            f"--concurrent-deployment-syncs={self.concurrent_deployment_syncs}",
            f"--concurrent-replicaset-syncs={self.concurrent_replicaset_syncs}",
            f"--concurrent-job-syncs={self.concurrent_job_syncs}",
        ]

    def describe(self) -> str:
        """One line for a report: which limits ran."""
        return (
            f"{self.name}: controller manager --kube-api-qps={self.kube_api_qps} "
            f"--kube-api-burst={self.kube_api_burst} (per controller), "
            f"--concurrent-deployment-syncs={self.concurrent_deployment_syncs}, "
            f"--concurrent-replicaset-syncs={self.concurrent_replicaset_syncs}, "
            f"--concurrent-job-syncs={self.concurrent_job_syncs}"
        )


#: kube-controller-manager v1.36's own defaults (pkg/controller/apis/config/v1alpha1).
UPSTREAM: Final = ControllerLimits("upstream", 20, 30, 5, 5, 5)
#: What production control planes of this size run (see the module's docstring).
PRODUCTION: Final = ControllerLimits("production", 100, 100, 5, 5, 5)
LIMITS: Final = {limits.name: limits for limits in (PRODUCTION, UPSTREAM)}
#: What the local cluster runs when nothing names a setting (see the module's docstring).
DEFAULT: Final = UPSTREAM


def named(name: str, where: str) -> ControllerLimits:
    """The limits called ``name``; a clear error naming ``where`` it was given otherwise."""
    try:
        return LIMITS[name]
    except KeyError:
        known = " or ".join(repr(n) for n in LIMITS)
        raise ValueError(f"{where}={name!r}: not a known setting of limits ({known})") from None


def from_environment() -> ControllerLimits:
    """``$MIGRATION_ROLLBACK_CLUSTER_LIMITS``, or ``DEFAULT`` when it is unset or empty."""
    raw = os.environ.get(LIMITS_ENV, "")
    return named(raw, f"${LIMITS_ENV}") if raw else DEFAULT
