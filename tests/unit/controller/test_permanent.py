"""Which errors a retry will not fix (controller.permanent): a request the API server refuses
for what it says (422; 400 whose Status says Invalid, or a webhook's denial) and a value the
code cannot use. An API server restarting, a conflict, a lost connection, a bare 400 or a
LookupError/AttributeError (how a read racing a watch update shows) may pass: kopf retries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from migration_rollback.controller.permanent import refusal


def refused(status: int, message: str = "", **body: Any) -> ApiException:
    exc = ApiException(status=status, reason="Unprocessable Entity")
    exc.body = json.dumps({"kind": "Status", "message": message, **body})
    return exc


SA = 'Job.batch "undo-dryrun-9a7d2ffb" is invalid: spec.template.spec.serviceAccountName'
CAUSE = {"causes": [{"reason": "FieldValueInvalid", "field": "spec.replicas"}]}
WEBHOOK = 'admission webhook "policy.example.com" denied the request: no'


@pytest.mark.parametrize(
    "exc",
    [refused(422, SA), refused(400, "bad", reason="Invalid"),
     refused(400, "bad", reason="BadRequest", details=CAUSE), refused(400, WEBHOOK),
     OverflowError("timestamp out of range"), ValueError("Invalid port: ':1'"),
     TypeError("x")],
    ids=["422", "400-invalid", "400-cause", "400-webhook", "overflow", "value", "type"],
)  # fmt: skip
def test_an_error_no_retry_fixes_is_named(exc: Exception) -> None:
    said = refusal(exc)
    assert said is not None
    assert type(exc).__name__ in said or "refused" in said


def test_the_api_servers_refusal_names_the_object_and_field() -> None:
    said = refusal(refused(422, SA))
    assert said is not None
    assert "(422)" in said
    assert "spec.template.spec.serviceAccountName" in said


@pytest.mark.parametrize(
    "exc",
    [refused(500), refused(503), refused(409), refused(429), refused(404),
     refused(400, "bad", reason="BadRequest"), refused(400, "", details={"causes": "x"}),
     ConnectionError("reset"), OSError("unreachable"), KeyError("x"), IndexError("x"),
     AttributeError("'NoneType' object has no attribute 'get'")],
    ids=["500", "503", "409", "429", "404", "400-bare", "400-odd", "connection", "os", "key",
         "index", "attribute"],
)  # fmt: skip
def test_an_error_a_retry_may_get_past_is_left_to_kopf(exc: Exception) -> None:
    assert refusal(exc) is None
