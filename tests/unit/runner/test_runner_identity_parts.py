"""The pinned run's refusal names which part of the database identity differs
(runner.identity.differing), so a reader knows whether the cluster, the database or the URL
changed."""

from __future__ import annotations

import pytest

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.identity import differing, require_same

PINNED = "7714676338064080190/app(oid 16384)@0123456789abcdef"


@pytest.mark.parametrize(
    ("actual", "says"),
    [("9999/app(oid 16384)@0123456789abcdef", "the cluster (system identifier)"),
     ("7714676338064080190/app(oid 20000)@0123456789abcdef", "the database name and oid"),
     ("7714676338064080190/shop(oid 16384)@0123456789abcdef", "the database name and oid"),
     ("7714676338064080190/app(oid 16384)@fedcba9876543210", "the host, port and database"),
     ("unknown/app(oid 16384)@fedcba9876543210", "the cluster (system identifier) and the "
      "host, port"),
     ("7714676338064080190/a/b(oid 1)@x(oid 2)@0123456789abcdef", "the database name and oid"),
     ("not an identity", "the identity")],
)  # fmt: skip
def test_the_part_that_differs_is_named(actual: str, says: str) -> None:
    assert differing(actual, PINNED).startswith(says)


def test_the_refusal_says_it() -> None:
    with pytest.raises(PreconditionError, match="the database name and oid differs"):
        require_same("7714676338064080190/app(oid 1)@0123456789abcdef", PINNED)
