"""Which errors end a rollback (controller.permanent): a request the API server refuses as
invalid and a value the code cannot use fail the same way on every retry; an API server that
is restarting, a conflict or a lost connection may not."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from migration_rollback.controller.permanent import as_failure
from migration_rollback.lifecycle.phases import Reason


def refused(status: int, message: str = "") -> ApiException:
    exc = ApiException(status=status, reason="Unprocessable Entity")
    exc.body = json.dumps({"kind": "Status", "message": message})
    return exc


SA = 'Job.batch "undo-dryrun-9a7d2ffb" is invalid: spec.template.spec.serviceAccountName'


@pytest.mark.parametrize(
    "exc",
    [refused(422, SA), refused(400, "bad"), OverflowError("timestamp out of range"),
     ValueError("Invalid port: ':1'"), KeyError("x")],
    ids=["422", "400", "overflow", "value", "key"],
)  # fmt: skip
def test_an_error_no_retry_fixes_ends_the_rollback(exc: Exception) -> None:
    failure = as_failure(exc)
    assert failure is not None
    assert failure.reason is Reason.UNEXPECTED_ERROR
    assert type(exc).__name__ in failure.message or "refused" in failure.message


def test_the_api_servers_refusal_names_the_object_and_field() -> None:
    failure = as_failure(refused(422, SA))
    assert failure is not None
    assert "(422)" in failure.message
    assert "spec.template.spec.serviceAccountName" in failure.message


@pytest.mark.parametrize(
    "exc",
    [refused(500), refused(503), refused(409), refused(429), refused(404),
     ConnectionError("reset"), OSError("unreachable")],
    ids=["500", "503", "409", "429", "404", "connection", "os"],
)  # fmt: skip
def test_an_error_a_retry_may_get_past_is_left_to_kopf(exc: Exception) -> None:
    assert as_failure(exc) is None
