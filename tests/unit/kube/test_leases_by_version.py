"""Leases taken without a read first and renewed or released by the version last written
(pure: an in-memory coordination API that checks versions as the API server does)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from migration_rollback.kube import leases


def now() -> dt.datetime:
    """The time when a test runs (a module-level time goes stale in a long suite: a Lease
    "renewed now" is expired 600 s after collection)."""
    return dt.datetime.now(dt.UTC)


class FakeLeases:
    """One Lease, versioned: a write at a stale version is a 409, as on the API server."""

    def __init__(self) -> None:
        self.lease: Any = None
        self.version = 10
        self.calls: list[str] = []

    def put(self, holder: str, renewed: dt.datetime, seconds: int = 600) -> None:
        self.lease = self._stored(holder, seconds, renewed, renewed)

    def _stored(self, holder: str, seconds: int, acquired: Any, renewed: Any) -> Any:
        self.version += 1
        when = [
            dt.datetime.fromisoformat(t) if isinstance(t, str) else t for t in (acquired, renewed)
        ]
        spec = NS(holder_identity=holder, lease_duration_seconds=seconds)
        spec.acquire_time, spec.renew_time = when
        return NS(metadata=NS(resource_version=str(self.version)), spec=spec)

    def _from(self, body: dict[str, Any]) -> Any:
        s = body["spec"]
        return self._stored(
            s["holderIdentity"], s["leaseDurationSeconds"], s["acquireTime"], s["renewTime"]
        )

    def create_namespaced_lease(self, _ns: str, body: dict[str, Any]) -> Any:
        self.calls.append("POST")
        if self.lease is not None:
            raise ApiException(status=409)
        self.lease = self._from(body)
        return self.lease

    def replace_namespaced_lease(self, _name: str, _ns: str, body: dict[str, Any]) -> Any:
        self.calls.append("PUT")
        if self.lease is None:
            raise ApiException(status=404)
        if body["metadata"].get("resourceVersion") != self.lease.metadata.resource_version:
            raise ApiException(status=409)
        self.lease = self._from(body)
        return self.lease

    def read_namespaced_lease(self, _name: str, _ns: str) -> Any:
        self.calls.append("GET")
        if self.lease is None:
            raise ApiException(status=404)
        return self.lease

    def delete_namespaced_lease(self, _name: str, _ns: str, body: dict[str, Any]) -> None:
        self.calls.append("DELETE")
        if self.lease is None:
            raise ApiException(status=404)
        if body["preconditions"]["resourceVersion"] != self.lease.metadata.resource_version:
            raise ApiException(status=409)
        self.lease = None


def acquire(fake: FakeLeases, who: str, held: leases.Attempt | None = None) -> leases.Attempt:
    return leases.try_acquire(NS(coordination=fake), "op", "db", who, 600, held)  # type: ignore[arg-type]


def test_a_free_lease_is_created_without_a_read_and_renewed_by_its_version() -> None:
    fake = FakeLeases()
    mine = acquire(fake, "a")
    again = acquire(fake, "a", mine)
    assert (mine.holder, again.holder) == (None, None)
    assert again.acquired == mine.acquired  # a renewal keeps when it was taken
    leases.release(NS(coordination=fake), "op", "db", "a", again.version)  # type: ignore[arg-type]
    assert fake.calls == ["POST", "PUT", "DELETE"]
    assert fake.lease is None


# (who holds it now, renewed how long ago, calls, who answers as holder, who holds it after)
ROWS = [
    ("b", dt.timedelta(0), ["POST", "GET"], "b", "b"),  # live: never stolen
    ("b", dt.timedelta(hours=1), ["POST", "GET", "PUT"], None, "a"),  # expired: taken
    ("a", dt.timedelta(0), ["POST", "GET", "PUT"], None, "a"),  # ours (a restart): renewed
]


@pytest.mark.parametrize(("holder", "ago", "calls", "answer", "after"), ROWS)
def test_a_409_on_create_reads_and_judges_the_lease(
    holder: str, ago: dt.timedelta, calls: list[str], answer: str | None, after: str
) -> None:
    fake = FakeLeases()
    fake.put(holder, now() - ago)
    assert acquire(fake, "a").holder == answer
    assert fake.calls == calls
    assert fake.lease.spec.holder_identity == after


def test_a_stale_version_another_holds_now_is_neither_renewed_over_nor_released() -> None:
    fake = FakeLeases()
    mine = acquire(fake, "a")
    fake.put("b", now())  # taken over after it expired: our version is stale
    assert acquire(fake, "a", mine).holder == "b"
    leases.release(NS(coordination=fake), "op", "db", "a", mine.version)  # type: ignore[arg-type]
    assert fake.lease.spec.holder_identity == "b"
    assert fake.calls == ["POST", "PUT", "GET", "DELETE", "GET"]


def test_a_lease_gone_since_our_version_is_created_again() -> None:
    fake = FakeLeases()
    mine = acquire(fake, "a")
    fake.lease = None  # deleted by hand
    assert acquire(fake, "a", mine).holder is None
    assert fake.calls == ["POST", "PUT", "GET", "POST"]


# (who holds it between the polls, the calls of the second poll, who holds it after)
POLL_ROWS = [
    ("b", ["GET"], "b"),  # still the leader's: one read, no create to meet a 409
    (None, ["GET", "POST"], "a"),  # released: created
    ("expired", ["GET", "PUT"], "a"),  # its holder stopped renewing: taken
]


@pytest.mark.parametrize(("between", "calls", "after"), POLL_ROWS)
def test_a_standby_poll_after_a_409_reads_first(
    between: str | None, calls: list[str], after: str
) -> None:
    fake = FakeLeases()
    fake.put("b", now())
    first = acquire(fake, "a")
    assert first.holder == "b"
    assert fake.calls == ["POST", "GET"]
    fake.calls.clear()
    if between is None:
        fake.lease = None
    elif between == "expired":
        fake.put("b", now() - dt.timedelta(hours=1))
    assert acquire(fake, "a", first).holder == (None if after == "a" else "b")
    assert fake.calls == calls
    assert fake.lease.spec.holder_identity == after
