"""/readyz that tells the truth: ready once kopf's watches have listed what the operator needs.

A ready operator is one that sees MigrationRollbacks and the Jobs and workloads it acts on. kopf
does not report that: its `ready_flag` rises when the startup handlers return, before any watch
request; its documented guarantee (indexes fully listed before any handler runs) blocks handlers
but signals nothing, and nothing at all when there is no object. Its watch streams do know: each
yields `Bookmark.LISTED` once its first list returned (an empty list too), and keeps retrying a
refused one (403: RBAC; 404: the resource is not served). So `observe_kopf_watches` wraps the one
function that yields those marks, and `Readiness` counts the (resource, namespace) pairs listed.

Liveness stays apart on purpose (`/healthz`: the process serves): a restart fixes neither RBAC nor
a missing CRD, and killing the operator mid-rollback leaves the app scaled down until it resumes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, NamedTuple


class Watched(NamedTuple):
    """A resource kopf watches: unpacks into kopf's decorators, `@kopf.on.event(*JOBS)`."""

    group: str
    version: str
    plural: str


def _describe(key: tuple[str, str, str | None]) -> str:
    group, plural, namespace = key
    where = f"in namespace {namespace}" if namespace else "cluster-wide"
    return f"{plural}.{group} {where}"


class Readiness:
    """Why the operator is not ready yet, or that it is. Thread-safe: kopf's loop and the
    startup code write it, the health server's threads read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting_for = "the operator to start"
        self._expected: frozenset[tuple[str, str, str | None]] = frozenset()
        self._listed: set[tuple[str, str, str | None]] = set()

    def waiting(self, reason: str) -> None:
        """A stage before the watches (the leader lease, the CRD) holds the operator up."""
        with self._lock:
            self._waiting_for = reason

    def expect(self, watched: Iterable[Watched], namespaces: Sequence[str]) -> None:
        """kopf is about to watch each resource in each namespace (cluster-wide: none given)."""
        scopes: Sequence[str | None] = namespaces or [None]
        with self._lock:
            self._waiting_for = ""
            self._expected = frozenset((w.group, w.plural, ns) for w in watched for ns in scopes)

    def listed(self, group: str, plural: str, namespace: str | None) -> None:
        with self._lock:
            self._listed.add((group, plural, namespace))

    def report(self) -> tuple[bool, str]:
        """(ready, what it waits for): the answer and body of /readyz."""
        with self._lock:
            waiting_for, expected = self._waiting_for, self._expected
            missing = sorted(_describe(k) for k in expected - self._listed)
        if waiting_for or not expected:
            return False, f"waiting for {waiting_for or 'the watches to start'}"
        if missing:
            names = "; ".join(missing)
            return False, f"waiting for the first listing of {names} (refused or not done yet)"
        return True, "watching " + "; ".join(sorted(_describe(k) for k in expected))


def observe_kopf_watches(readiness: Readiness) -> None:
    """Route every kopf watch stream through one that tells `readiness` of its first listing.

    The seam is kopf's own (`kopf._cogs.clients.watching`, a private module, stable since the
    indexes came in 1.32): when it is not there the operator refuses to start rather than report
    ready without knowing."""
    try:
        from kopf._cogs.clients import watching
    except ImportError as exc:
        raise SystemExit(f"this kopf cannot report its watches' first listing: {exc}") from exc
    original = getattr(watching, "infinite_watch", None)
    listed_mark = getattr(getattr(watching, "Bookmark", None), "LISTED", None)
    if original is None or listed_mark is None:
        raise SystemExit(
            "this kopf has no kopf._cogs.clients.watching.infinite_watch / Bookmark.LISTED: "
            "readiness cannot follow its watches (pin kopf to a version that has them)"
        )
    inner = getattr(original, "wrapped_for_readiness", original)

    async def infinite_watch(**kwargs: Any) -> AsyncIterator[Any]:
        resource, namespace = kwargs["resource"], kwargs["namespace"]
        async with contextlib.aclosing(inner(**kwargs)) as stream:
            async for event in stream:
                if event is listed_mark:
                    readiness.listed(resource.group, resource.plural, namespace)
                yield event

    infinite_watch.wrapped_for_readiness = inner  # type: ignore[attr-defined]
    watching.infinite_watch = infinite_watch
