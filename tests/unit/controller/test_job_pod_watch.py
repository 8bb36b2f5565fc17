"""A Job's pods watched from the Job's resourceVersion, with no list first (pure: a pods API
fake that records every call and answers the watch with an error status)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from migration_rollback.controller import podwatch
from migration_rollback.controller.observe import Memory, Observer
from migration_rollback.controller.podwatch import PodWatches
from migration_rollback.kube.client import Clients

SELECTOR = "batch.kubernetes.io/job-name=j"
EMPTY = podwatch.PodView((), ever_started=False, watch=None)  # what a broken watch reads as
WAIT = 30.0  # a bound on a thread's first request, never reached when it works


class Pods:
    """Lists answer empty at version 5; each watch request gets the next of `answers` (an
    HTTP status raised), the last once the test has looked (`release`)."""

    def __init__(self, *answers: int) -> None:
        self.answers, self.calls = list(answers), []  # type: list[int], list[dict[str, Any]]
        self.watched, self.release = threading.Event(), threading.Event()

    def list_namespaced_pod(self, _ns: str, **kw: Any) -> Any:
        self.calls.append(kw)
        if not kw.get("watch"):
            return Empty()
        status = self.answers.pop(0)
        if not self.answers:
            self.watched.set()
            self.release.wait(WAIT)
        raise ApiException(status=status, reason="from the fake")


class Empty:
    """A list answer: no items, at version 5."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.metadata = type("Meta", (), {"resource_version": "5"})()


def requested(pods: Pods) -> list[str]:
    """The requests sent, in order: a watch's resourceVersion, or "list"."""
    return [c.get("resource_version", "?") if c.get("watch") else "list" for c in pods.calls]


def clients(pods: Pods) -> Clients:
    api = type("Api", (), {"sanitize_for_serialization": staticmethod(lambda x: x)})()
    return Clients(api, pods, None, None, None, None, None)


# (since, listed, versions the requests were at: "list" for a list)
ROWS = [
    ("7", True, ["7"]),  # a Job we created: none of its pods is older, nothing to list
    ("", True, ["list", "5"]),  # a Job found (a restart): listed, then watched from there
]


@pytest.mark.parametrize(("since", "listed", "requests"), ROWS, ids=["created", "found"])
def test_a_jobs_pods_are_watched_from_its_creation_without_a_list(
    since: str, listed: bool, requests: list[str]
) -> None:
    pods = Pods(403)
    watches = PodWatches(clients(pods), "shop", lambda: None)
    seen = watches.view(SELECTOR, listed=listed, since=since)
    assert seen is not None
    assert seen.pods == ()
    assert pods.watched.wait(WAIT)
    pods.release.set()
    watches.stop_all()
    assert requested(pods) == requests


class Watches:
    def __init__(self) -> None:
        self.asked: list[tuple[str, bool, str]] = []

    def view(self, selector: str, listed: bool, since: str = "") -> podwatch.PodView:
        self.asked.append((selector, listed, since))
        return podwatch.PodView((), ever_started=False, watch="w")


def test_the_observer_watches_a_job_it_created_from_the_version_it_was_created_at() -> None:
    memory, watches = Memory(), Watches()
    memory.job_versions["j"] = "7"
    observer = Observer(None, None, memory, "shop", ("op", "shop/undo"), watches)  # type: ignore[arg-type]
    assert observer.job_pods("j").pods == ()  # from the watch: no list (clients would raise)
    assert observer.job_pods("k").pods == ()
    assert watches.asked == [(SELECTOR, True, "7"), ("batch.kubernetes.io/job-name=k", True, "")]


class Apps:
    """A Deployment API counting reads; no HPA targets it."""

    def __init__(self) -> None:
        self.reads = 0

    def read_namespaced_deployment(self, name: str, namespace: str) -> dict[str, Any]:
        self.reads += 1
        return {
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": "3"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}},
            "status": {"replicas": 2, "readyReplicas": 2},
        }

    def list_namespaced_horizontal_pod_autoscaler(self, _ns: str) -> Any:
        return Empty()


def test_the_first_look_reads_each_deployment_once() -> None:
    """The read that resolves spec.workloads is the one the views are made from."""
    from migration_rollback.controller.cache import WatchCache
    from migration_rollback.lifecycle.model import WorkloadRef
    from migration_rollback.lifecycle.observation import Observation

    apps = Apps()
    api = type("Api", (), {"sanitize_for_serialization": staticmethod(lambda x: x)})()
    found = Clients(api, None, apps, None, apps, None, None)
    observer = Observer(found, WatchCache(), Memory(), "shop", ("op", "u"), Watches())  # type: ignore[arg-type]
    spec = type("Spec", (), {"workloads": (WorkloadRef(name="web"), WorkloadRef(name="api"))})()
    seen = observer.first_look(Observation(), spec)  # type: ignore[arg-type]
    assert [(w.key, w.desired, w.live_pods) for w in seen.workloads] == [
        ("api", 2, 0),
        ("web", 2, 0),
    ]
    assert apps.reads == 2


# (answers to the watch requests, in order; the requests sent: a watch's version, or "list")
RETRY_ROWS = [
    ((504, 504, 403), ["999"] * 3),  # the watch cache not there yet: the same version again
    ((503, 429, 403), ["999"] * 3),  # a busy server: the same
    ((410, 403), ["999", "list", "5"]),  # compacted away: listed again, watched from there
    ((504, 410, 503, 403), ["999", "999", "list", "5", "5"]),  # and retried from there
    ((504, 403), ["999"] * 2),  # refused: the reader lists from now on
    ((503,) * 6, ["999"] * 6),  # failing on: ended after RETRIES retries (its pods may be stale)
]


@pytest.mark.parametrize(
    ("answers", "sent"),
    RETRY_ROWS,
    ids=["504", "busy", "410", "410 then busy", "403", "endless"],
)
def test_a_watch_not_served_yet_is_asked_again_at_the_same_version(
    monkeypatch: pytest.MonkeyPatch, answers: tuple[int, ...], sent: list[str]
) -> None:
    monkeypatch.setattr(podwatch, "BACKOFF_SECONDS", (0.0,))
    pods = Pods(*answers)
    watches = PodWatches(clients(pods), "shop", lambda: None)
    assert watches.view(SELECTOR, listed=True, since="999") is not None
    assert pods.watched.wait(WAIT)
    assert watches.view(SELECTOR, listed=True, since="999") is not None  # in sync, retried
    thread = watches._watches[SELECTOR]._thread
    pods.release.set()
    thread.join(WAIT)
    assert watches.view(SELECTOR, listed=True, since="999") is None  # ended by the last
    assert requested(pods) == sent


class Relisted(Pods):
    """Lists pod a; its first watch answers 410 once the test has looked (`looked`); then it
    lists pod b, and watches as Pods does."""

    def __init__(self) -> None:
        super().__init__(403)
        self.lists, self.looked = 0, threading.Event()

    def list_namespaced_pod(self, _ns: str, **kw: Any) -> Any:
        if kw.get("watch") and self.lists == 1:
            self.calls.append(kw)
            self.looked.wait(WAIT)
            raise ApiException(status=410, reason="from the fake")
        if kw.get("watch"):
            return super().list_namespaced_pod(_ns, **kw)
        self.calls.append(kw)
        self.lists += 1
        found = Empty()
        found.items = [{"metadata": {"name": "a" if self.lists == 1 else "b"}}]
        return found


def test_a_relist_replaces_the_pods_and_names_the_watch_anew() -> None:
    """After a 410 the pods are those listed again (one gone meanwhile is not kept), the flow
    is woken, and the watch has a new identity: a decision that recorded the old one cannot
    count it as unbroken (a pod may have started and gone in between, unseen)."""
    pods, woken = Relisted(), threading.Event()
    watches = PodWatches(clients(pods), "shop", woken.set)
    assert [p.name for p in (watches.view(SELECTOR, listed=True) or EMPTY).pods] == ["a"]
    before = (watches.view(SELECTOR, listed=True) or EMPTY).watch
    pods.looked.set()
    assert pods.watched.wait(WAIT)  # relisted and watching from the new list's version
    assert woken.is_set()
    after = watches.view(SELECTOR, listed=True) or EMPTY
    assert [p.name for p in after.pods] == ["b"]
    assert after.watch not in (None, before)
    pods.release.set()
    watches.stop_all()
