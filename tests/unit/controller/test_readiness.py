"""/readyz is 200 only once every watch the operator needs has listed (pure: no API server), and
the seam into kopf's watch streams passes every event through and sees the first listing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import kopf
import pytest
from kopf._cogs.clients import watching
from kopf._core.reactor import queueing

from migration_rollback.controller import handlers
from migration_rollback.controller.readiness import Readiness, Watched, observe_kopf_watches

JOBS = Watched("batch", "v1", "jobs")
ROLLBACKS = Watched("example.dev", "v1", "migrationrollbacks")


def test_not_ready_before_the_watches_are_expected_and_says_what_it_waits_for() -> None:
    readiness = Readiness()
    assert readiness.report() == (False, "waiting for the operator to start")
    readiness.waiting("the leader lease (held by other-pod)")
    assert readiness.report() == (False, "waiting for the leader lease (held by other-pod)")


def test_ready_only_once_every_watch_in_every_namespace_has_listed() -> None:
    readiness = Readiness()
    readiness.waiting("the leader lease (held by other-pod)")
    readiness.expect([ROLLBACKS, JOBS], ["shop", "billing"])
    readiness.listed("example.dev", "migrationrollbacks", "shop")
    readiness.listed("example.dev", "migrationrollbacks", "billing")
    readiness.listed("batch", "jobs", "shop")
    readiness.listed("batch", "jobs", None)  # not a watch it needs: changes nothing
    ready, why = readiness.report()
    assert not ready
    assert why == (
        "waiting for the first listing of jobs.batch in namespace billing (refused or not done yet)"
    )
    readiness.listed("batch", "jobs", "billing")
    assert readiness.report()[0]


def test_cluster_wide_watches_are_listed_without_a_namespace() -> None:
    readiness = Readiness()
    readiness.expect([JOBS], [])
    readiness.listed("batch", "jobs", "shop")
    assert not readiness.report()[0]
    readiness.listed("batch", "jobs", None)
    assert readiness.report() == (True, "watching jobs.batch cluster-wide")


def test_nothing_expected_is_not_ready() -> None:
    readiness = Readiness()
    readiness.expect([], [])
    assert readiness.report() == (False, "waiting for the watches to start")


# --- the seam into kopf ---------------------------------------------------------------------


def _resource(watched: Watched) -> Any:
    from kopf._cogs.structs.references import Resource

    return Resource(watched.group, watched.version, watched.plural, namespaced=True)


@pytest.fixture
def kopf_stream(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """kopf's infinite_watch replaced by a stream of two events around the first-listing mark
    (what kopf yields after an empty or full list); records whether it was closed."""
    closed: list[str] = []

    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        try:
            yield {"type": None, "object": {"metadata": {"name": "listed"}}}
            yield watching.Bookmark.LISTED
            yield {"type": "ADDED", "object": {"metadata": {"name": "watched"}}}
        finally:
            closed.append(kwargs["namespace"])

    monkeypatch.setattr(watching, "infinite_watch", stream)
    return closed


async def _consume(limit: int | None = None, **kwargs: Any) -> list[Any]:
    seen: list[Any] = []
    stream = watching.infinite_watch(**kwargs)
    async for event in stream:
        seen.append(event)
        if limit is not None and len(seen) == limit:
            break
    await stream.aclose()
    return seen


def test_the_first_listing_mark_makes_the_watch_listed_and_every_event_passes(
    kopf_stream: list[str],
) -> None:
    readiness = Readiness()
    readiness.expect([JOBS], ["shop"])
    observe_kopf_watches(readiness)
    # kopf's watcher looks the stream up in this module each time it starts one (no binding of
    # its own that would bypass the wrapper): the wrapper is what it runs.
    assert queueing.watching is watching
    assert not hasattr(queueing, "infinite_watch")
    seen = asyncio.run(_consume(limit=1, resource=_resource(JOBS), namespace="shop"))
    assert len(seen) == 1
    assert not readiness.report()[0]  # the list's objects came, not yet its end
    assert kopf_stream == ["shop"]  # the consumer's stop closed kopf's stream
    seen = asyncio.run(_consume(resource=_resource(JOBS), namespace="shop"))
    assert [e if e is watching.Bookmark.LISTED else e["type"] for e in seen] == [
        None,
        watching.Bookmark.LISTED,
        "ADDED",
    ]
    assert readiness.report() == (True, "watching jobs.batch in namespace shop")


def test_installing_twice_wraps_kopfs_stream_once(kopf_stream: list[str]) -> None:
    first, second = Readiness(), Readiness()
    observe_kopf_watches(first)
    observe_kopf_watches(second)
    second.expect([JOBS], ["shop"])
    seen = asyncio.run(_consume(resource=_resource(JOBS), namespace="shop"))
    assert len(seen) == 3
    assert second.report()[0]


def test_every_resource_a_handler_watches_counts_for_readiness() -> None:
    """A handler added for another resource, without adding it to WATCHED, would let /readyz
    turn 200 before its watch listed."""
    registry = kopf.get_default_registry()
    found = {
        (h.selector.group, h.selector.version, h.selector.plural or h.selector.any_name)
        for part in (registry._watching, registry._spawning, registry._changing)
        for h in part.get_all_handlers()
        if h.selector is not None
    }
    assert found == set(handlers.WATCHED)
