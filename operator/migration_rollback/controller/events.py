"""Events are posted off the rollbacks' own threads: a courtesy must not hold up a decision.

Each Event is a request; with 20 rollbacks at once on a loaded API server one took 0.2 s on
average and up to 1.3 s, seven per rollback, some of them in the downtime window, where the
flow posting them could not act on the watch event that ended its wait. The flow hands them
to a few poster threads instead. An Event's time is taken when the decision makes it, so
`kubectl describe` orders them as they happened whatever order they reach the API server.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from migration_rollback.kube import resources
from migration_rollback.kube.client import Clients

log = logging.getLogger("migration_rollback.events")
# Enough that a burst (50 rollbacks changing phase at once) drains in a few round trips.
POSTERS = 4
# An API server that stops answering holds every poster; past this many waiting events the
# newest are dropped (logged) rather than kept without bound.
CAPACITY = 1000
# Each send's own timeout: a connection that never answers frees its poster.
SEND_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Event:
    metadata: Mapping[str, Any]  # the resource's, as the decision saw it
    reason: str
    message: str  # already scrubbed of the database URL's secrets
    warning: bool
    at: dt.datetime


Send = Callable[[Event], None]


class EventPoster:
    """Posts events with `send` on `posters` daemon threads, started on first use (a stopping
    operator drops what is still queued: status is the record, events announce it)."""

    def __init__(self, send: Send, posters: int = POSTERS, capacity: int = CAPACITY) -> None:
        self._send, self._posters = send, posters
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=capacity)
        self._started = False
        self._lock = threading.Lock()
        self.dropped = 0  # events the full queue turned away

    def post(self, event: Event) -> None:
        self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            log.warning("event queue full: dropped %s for %s", event.reason, _where(event))

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            for i in range(self._posters):
                threading.Thread(target=self._run, daemon=True, name=f"events-{i}").start()

    @classmethod
    def to_api(cls, clients: Clients) -> EventPoster:
        """Posting to the API server as core/v1 Events."""

        def send(e: Event) -> None:
            resources.post_event(
                clients, e.metadata, e.reason, e.message, e.warning, e.at, SEND_TIMEOUT_SECONDS
            )

        return cls(send)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                self._send(event)
            except Exception as exc:  # never fail anything over an event (its message: scrubbed)
                log.warning("could not post event %s for %s: %s", event.reason, _where(event), exc)


def _where(event: Event) -> str:
    return f"{event.metadata.get('namespace')}/{event.metadata.get('name')}"
