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


def test_a_stuck_api_server_costs_at_most_the_queue_never_a_wait() -> None:
    """Every poster held by a send that does not answer: events past the queue's capacity are
    dropped (status is the record), `post` still returns at once, and what was queued is sent
    once the API server answers again."""
    release, first_sent, three_sent = threading.Event(), threading.Event(), threading.Event()
    received: list[str] = []

    def send(e: Event) -> None:
        first_sent.set()
        assert release.wait(timeout=30)
        received.append(e.reason)
        if len(received) == 3:
            three_sent.set()

    poster = EventPoster(send, posters=1, capacity=2)
    poster.post(event("Held"))
    assert first_sent.wait(timeout=30)  # the one poster is now stuck in its send
    for reason in ("Queued1", "Queued2", "Dropped1", "Dropped2"):
        poster.post(event(reason))
    assert poster.dropped == 2
    release.set()
    assert three_sent.wait(timeout=30)
    assert received == ["Held", "Queued1", "Queued2"]
