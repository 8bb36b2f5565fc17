"""The scale-down's pod delete runs in a thread, so it can answer after the flow moved on. A
scale up must wait for it (else a late collection delete takes the restored app's fresh
pods), and one workload never has two deletes at once, whichever flow or finalizer asks (no
API server: `delete` stands in for the request)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from migration_rollback.controller.poddeletes import DeleteInFlight, PodDeletes

APP = "Deployment/web"
LABELS = {"app": "web"}
HASHES = ("5d8f7c9b4",)


class HeldDelete:
    """A delete the API server answers only once the test releases it."""

    def __init__(self) -> None:
        self.release, self.started = threading.Event(), threading.Event()
        self.calls: list[tuple[str, dict[str, str], tuple[str, ...]]] = []

    def __call__(self, namespace: str, labels: Mapping[str, str], hashes: tuple[str, ...]) -> None:
        self.calls.append((namespace, dict(labels), hashes))
        self.started.set()
        assert self.release.wait(timeout=30)


def test_a_scale_up_does_not_pass_an_unanswered_delete_of_its_workload() -> None:
    held = HeldDelete()
    deletes = PodDeletes(held)
    assert deletes.start("shop", APP, LABELS, HASHES)
    assert held.started.wait(timeout=30)
    with pytest.raises(DeleteInFlight, match="shop/Deployment/web"):
        deletes.settle("shop", APP, timeout=0.01)
    deletes.settle("shop", "Deployment/other", timeout=0.01)  # another workload: no wait
    held.release.set()
    deletes.settle("shop", APP, timeout=30)  # answered: the scale up may go


def test_one_delete_per_workload_across_every_caller() -> None:
    held = HeldDelete()
    deletes = PodDeletes(held)  # shared: a restarted flow and the finalizer use this one too
    assert deletes.start("shop", APP, LABELS, HASHES)
    assert held.started.wait(timeout=30)
    assert not deletes.start("shop", APP, LABELS, HASHES)
    assert deletes.start("other", APP, LABELS, HASHES)  # same name, other namespace: its own
    held.release.set()
    deletes.settle("shop", APP, timeout=30)
    deletes.settle("other", APP, timeout=30)
    assert deletes.start("shop", APP, LABELS, HASHES)  # answered: the next decision may ask again
    deletes.settle("shop", APP, timeout=30)
    assert held.calls == [
        ("shop", LABELS, HASHES),
        ("other", LABELS, HASHES),
        ("shop", LABELS, HASHES),
    ]


def test_a_failing_delete_leaves_nothing_in_flight() -> None:
    def refused(namespace: str, labels: Mapping[str, str], hashes: tuple[str, ...]) -> None:
        raise RuntimeError("the API server said no")

    deletes = PodDeletes(refused)
    assert deletes.start("shop", APP, LABELS, HASHES)
    deletes.settle("shop", APP, timeout=30)
    assert deletes.start("shop", APP, LABELS, HASHES)
    deletes.settle("shop", APP, timeout=30)
