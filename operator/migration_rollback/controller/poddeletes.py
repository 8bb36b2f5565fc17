"""The scale-down's pod deletes, off the flows' threads, and never across a scale back up.

A collection delete picks its pods when the API server gets it. One sent late (a thread not
yet run, a slow connection, a retry) after its workload was scaled back up would delete the
restored application's fresh pods. So there is one registry for the whole operator (a
restarted flow or the finalizer's restore has an Interpreter of its own, not its own
deletes): one delete per workload at a time, and a scale up waits for the workload's delete
to have answered first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from migration_rollback.kube import workloads
from migration_rollback.kube.client import Clients

log = logging.getLogger("migration_rollback.poddeletes")
# Each request's timeout (the client may retry it); a scale up waits a few seconds for it,
# then its decision is made again.
DELETE_TIMEOUT_SECONDS = 20.0
SETTLE_TIMEOUT_SECONDS = 5.0

# (namespace, the workload's match labels, the pod-template-hash of each ReplicaSet to empty)
Delete = Callable[[str, Mapping[str, str], tuple[str, ...]], None]


class DeleteInFlight(RuntimeError):
    """A scale up found its workload's pod delete still unanswered: scaling now could lose the
    pods it brings up, so the decision is made again later."""


class PodDeletes:
    """Threads deleting a workload's ReplicaSet pods, by (namespace, workload key)."""

    def __init__(self, delete: Delete) -> None:
        self._delete = delete
        self._running: dict[tuple[str, str], threading.Thread] = {}
        self._lock = threading.Lock()

    @classmethod
    def to_api(cls, clients: Clients) -> PodDeletes:
        def delete(namespace: str, labels: Mapping[str, str], hashes: tuple[str, ...]) -> None:
            workloads.delete_replica_set_pods(
                clients, namespace, labels, hashes, DELETE_TIMEOUT_SECONDS
            )

        return cls(delete)

    def start(
        self,
        namespace: str,
        workload: str,
        labels: Mapping[str, str],
        template_hashes: tuple[str, ...],
    ) -> bool:
        """False when this workload's delete is still running (the next decision asks again)."""
        key = (namespace, workload)
        with self._lock:
            if key in self._running:
                return False
            thread = threading.Thread(
                target=self._run,
                args=(key, dict(labels), template_hashes),
                daemon=True,
                name=f"delete-{workload}",
            )
            self._running[key] = thread
            thread.start()
        return True

    def settle(
        self, namespace: str, workload: str, timeout: float = SETTLE_TIMEOUT_SECONDS
    ) -> None:
        """Returns once no delete of this workload's pods is in flight; raises DeleteInFlight
        if one is still unanswered after `timeout`."""
        with self._lock:
            thread = self._running.get((namespace, workload))
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            raise DeleteInFlight(
                f"{namespace}/{workload}: its pod delete has not answered in {timeout:.0f} s; "
                "not scaling it up until it has"
            )

    def _run(
        self, key: tuple[str, str], labels: Mapping[str, str], template_hashes: tuple[str, ...]
    ) -> None:
        try:
            self._delete(key[0], labels, template_hashes)
        except Exception as exc:  # only a speed-up: its ReplicaSets delete them all the same
            # Its text names a refusal ("(403) Reason: Forbidden"): RBAC missing is seen.
            log.warning("could not delete the pods of %s/%s: %s", *key, exc)
        finally:
            with self._lock:
                self._running.pop(key, None)
