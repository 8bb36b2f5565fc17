"""Where the controller manager's time goes during a bench run, from its own client-go metrics:
how long its requests waited in their client's rate limiter (client-side throttling, set by
``--kube-api-qps`` / ``--kube-api-burst``), and how long the Deployment, ReplicaSet and Job
controllers' work items waited in their queues for a worker (``--concurrent-*-syncs``) and
took once picked. It tells a control plane held back by its own limits from one waiting for a
core, which the bench's timeline alone cannot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The workqueues of the controllers on the rollback's path (their names in the metrics).
QUEUES = ("deployment", "replicaset", "job")
Samples = Mapping[str, float]  # a metric's name and labels, as printed -> its value
_SAMPLE = re.compile(r"^(?P<name>[a-z_:]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def parse(text: str) -> dict[str, float]:
    """Every sample of a Prometheus text page, keyed by its name and labels as printed."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if m := _SAMPLE.match(line):
            key = m["name"] + (f"{{{m['labels']}}}" if m["labels"] else "")
            samples[key] = float(m["value"])
    return samples


def _total(samples: Samples, name: str, labels: str = "") -> float:
    """The sum of ``name``'s samples whose labels hold ``labels`` (e.g. 'name="job"')."""
    return sum(
        v
        for k, v in samples.items()
        if k.partition("{")[0] == name and labels in k.partition("{")[2]
    )


def _delta(before: Samples, after: Samples, name: str, labels: str = "") -> float:
    return _total(after, name, labels) - _total(before, name, labels)


def _over(before: Samples, after: Samples, name: str, bound: str) -> float:
    """How many observations of histogram ``name`` exceeded the bucket ``bound``."""
    count = _delta(before, after, f"{name}_count")
    within = _delta(before, after, f"{name}_bucket", f'le="{bound}"')
    return count - within


def lines(before: Samples, after: Samples) -> list[str]:
    """The report: the throttling of every controller's client together, then each queue."""
    limiter = "rest_client_rate_limiter_duration_seconds"
    count = _delta(before, after, f"{limiter}_count")
    waited = _delta(before, after, f"{limiter}_sum")
    out = [
        "controller manager (its client-go metrics over the run):",
        f"  requests {count:.0f}; waited in the client's rate limiter {waited:.2f} s in all, "
        f"{_over(before, after, limiter, '0.025'):.0f} of them over 25 ms, "
        f"{_over(before, after, limiter, '0.25'):.0f} over 250 ms",
    ]
    for queue in QUEUES:
        label = f'name="{queue}"'
        adds = _delta(before, after, "workqueue_adds_total", label)
        waits = _delta(before, after, "workqueue_queue_duration_seconds_count", label)
        if not waits:
            continue
        queued = _delta(before, after, "workqueue_queue_duration_seconds_sum", label)
        works = _delta(before, after, "workqueue_work_duration_seconds_count", label)
        worked = _delta(before, after, "workqueue_work_duration_seconds_sum", label)
        out.append(
            f"  {queue + ' queue':18} adds {adds:4.0f}   mean wait for a worker "
            f"{1000 * queued / waits:6.1f} ms   mean sync {1000 * worked / max(works, 1):6.1f} ms"
        )
    return out
