"""A pod watch's relist and retries, seen by a reader (pure: the pods API fake of
test_job_pod_watch, and scripted streams): the identity a decision records always names the
watch that showed the pods it read; a retry resumes from the last event seen; 410s in a row
are paced; a BOOKMARK is never a pod."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client.rest import ApiException
from tests.unit.controller.test_job_pod_watch import EMPTY, SELECTOR, WAIT, Empty, Pods, clients

from migration_rollback.controller import podwatch
from migration_rollback.controller.podwatch import PodView, PodWatch, PodWatches


class SlowRelist(Pods):
    """First list: pod a (not started). First watch: 410 once the test says (`go`). The
    relist then waits until the test has looked (`looked`) and answers empty: pod a started
    while nothing watched, and was deleted."""

    def __init__(self) -> None:
        super().__init__(403)
        self.lists = 0
        self.go, self.in_relist, self.looked = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )

    def list_namespaced_pod(self, _ns: str, **kw: Any) -> Any:
        if kw.get("watch") and self.lists == 1:
            self.calls.append(kw)
            self.go.wait(WAIT)
            raise ApiException(status=410, reason="too old resource version")
        if kw.get("watch"):
            return super().list_namespaced_pod(_ns, **kw)
        self.calls.append(kw)
        self.lists += 1
        found = Empty()
        if self.lists == 1:
            found.items = [{"metadata": {"name": "a"}}]
        else:
            self.in_relist.set()
            self.looked.wait(WAIT)
        return found


def test_a_look_during_a_relist_is_named_as_the_watch_before_it() -> None:
    """While the relist's list is in flight the pods shown are the old ones: the identity read
    with them is the old one, so a decision recording it (a Job stopped) sees the break once
    the relist is done; the new identity would pass it as unbroken, though a pod may have
    started and gone unseen in between (`after_stop` would say nothing ran)."""
    pods = SlowRelist()
    watches = PodWatches(clients(pods), "shop", lambda: None)
    before = watches.view(SELECTOR, listed=True) or EMPTY
    pods.go.set()
    assert pods.in_relist.wait(WAIT)
    during = watches.view(SELECTOR, listed=True) or EMPTY  # what jobrun.stop would record
    pods.looked.set()
    assert pods.watched.wait(WAIT)  # relisted, watching again
    after = watches.view(SELECTOR, listed=True) or EMPTY
    pods.release.set()
    watches.stop_all()
    assert [p.name for p in during.pods] == ["a"]
    assert during.watch == before.watch is not None
    assert after.pods == ()
    assert after.watch not in (None, during.watch)


class Script:
    """A watch whose streams are scripted: each call records its resourceVersion and plays
    the next entry's events, then raises its status (none: the stream ends normally)."""

    def __init__(self, *plays: tuple[list[dict[str, Any]], int | None]) -> None:
        self.plays, self.versions = list(plays), []  # type: list[Any], list[str]

    def stream(self, *_: Any, **kw: Any) -> Iterator[dict[str, Any]]:
        self.versions.append(kw.get("resource_version", ""))
        events, status = self.plays.pop(0)
        yield from events
        if status is not None:
            raise ApiException(status=status, reason=f"scripted {status}")

    def stop(self) -> None:
        pass


def added(name: str, version: str) -> dict[str, Any]:
    return {"type": "ADDED", "object": {"metadata": {"name": name, "resourceVersion": version}}}


def scripted(script: Script, monkeypatch: pytest.MonkeyPatch) -> tuple[PodWatch, list[float]]:
    """A watch from version 5 playing `script`, its pauses recorded instead of waited."""
    watch = PodWatch(clients(Pods()), "shop", SELECTOR, lambda: None, listed=True, since="5")
    watch._watch = script  # type: ignore[assignment]
    watch._version = "5"
    paused: list[float] = []
    monkeypatch.setattr(watch, "_pause", lambda exc, delay: paused.append(delay))
    return watch, paused


def test_a_retry_after_an_error_mid_stream_resumes_from_the_last_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = Script(([added("a", "7"), added("b", "9")], 503), ([], 403))
    watch, _ = scripted(script, monkeypatch)
    watch._run()
    assert script.versions == ["5", "9"]  # not 5 again: further back, likelier compacted


def test_410s_in_a_row_relist_after_a_pause_from_the_second_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = Script(([], 410), ([], 410), ([], 410), ([], None), ([], 410), ([], 403))
    watch, paused = scripted(script, monkeypatch)
    watch._run()
    gone = podwatch.GONE_BACKOFF_SECONDS
    assert paused == [0.0, gone[0], gone[1], 0.0]  # a normal end starts the count again
    assert script.versions == ["5", "5", "5", "5", "5", "5"]  # each relist's version (Empty)


def test_a_bookmark_moves_the_version_and_is_no_pod() -> None:
    watch = PodWatch(clients(Pods()), "shop", SELECTOR, lambda: None, listed=True, since="5")
    watch._take(
        {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "9"}}}
    )
    assert watch.pods() == ()
    assert watch._version == "9"


@pytest.mark.parametrize(
    ("statuses", "delay"),
    [
        ((410,), 0.0),  # the pods shown are stale: relisted at once
        ((503, 410), 0.0),  # the first 410 in a row
        ((410, 410), podwatch.GONE_BACKOFF_SECONDS[0]),
        ((410,) * 9, podwatch.GONE_BACKOFF_SECONDS[-1]),
        ((410, 503), podwatch.BACKOFF_SECONDS[1]),  # a busy server backs off as before
    ],
)
def test_retry_delay(statuses: tuple[int, ...], delay: float) -> None:
    failures = [ApiException(status=s) for s in statuses]
    assert podwatch.retry_delay(failures) == delay


def test_a_broken_watchs_view_names_no_watch() -> None:
    watch = PodWatch(clients(Pods()), "shop", SELECTOR, lambda: None, listed=True, since="5")
    assert watch.view() == PodView((), ever_started=False, watch=None)  # not started
