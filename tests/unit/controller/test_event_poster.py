"""Events leave the rollback's thread at once: `post` never waits for the API server, and
an Event keeps the time its decision made it (no API server: `send` stands in for it)."""

from __future__ import annotations

import datetime as dt
import threading

from migration_rollback.controller.events import Event, EventPoster

AT = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)


def event(reason: str) -> Event:
    return Event({"namespace": "shop", "name": "undo"}, reason, "text", False, AT)


def test_posting_does_not_wait_for_the_send_and_keeps_the_events_time() -> None:
    release, sent = threading.Event(), threading.Event()
    received: list[Event] = []

    def send(e: Event) -> None:
        release.wait(timeout=30)  # the API server answers only once the test says so
        received.append(e)
        sent.set()

    poster = EventPoster(send, posters=1)
    poster.post(event("ScaleDownRunning"))  # returns while the send is held
    assert received == []
    release.set()
    assert sent.wait(timeout=30)
    assert [(e.reason, e.at) for e in received] == [("ScaleDownRunning", AT)]


def test_a_failing_send_does_not_stop_the_next_events() -> None:
    done = threading.Event()
    received: list[str] = []

    def send(e: Event) -> None:
        if e.reason == "Broken":
            raise RuntimeError("the API server said no")
        received.append(e.reason)
        done.set()

    poster = EventPoster(send, posters=1)
    poster.post(event("Broken"))
    poster.post(event("RollbackDone"))
    assert done.wait(timeout=30)
    assert received == ["RollbackDone"]
