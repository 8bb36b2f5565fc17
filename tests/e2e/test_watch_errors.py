"""A watch's ERROR event, as a real API server sends it inside an open stream (HTTP 200, then
a Status event), reaches the pod watches as the ApiException it carries: a 410 relists, a busy
server's codes are retried (controller/podwatch.py). The kubernetes client's own raw mode
(``deserialize=False``) fails on it with a KeyError instead; ``RawWatch`` is why not.

A custom resource's watch cache starts when its CRD is established, so a watch of it from
resourceVersion 1 is too old for it: the API server answers 200 and an ERROR event, code 410
("too old resource version"). A pod watch gets the same event when its version is older than
the pods' watch cache holds, which a fresh local cluster does not reach in a test's time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from migration_rollback import api
from migration_rollback.controller.podwatch import RawWatch

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

pytestmark = pytest.mark.e2e
TOO_OLD = "1"


def rollbacks_since(custom: client.CustomObjectsApi, namespace: str, version: str) -> Any:
    return custom.list_namespaced_custom_object(
        api.GROUP, api.VERSION, namespace, api.PLURAL, resource_version=version,
        watch=True, timeout_seconds=10, _preload_content=False,
    )  # fmt: skip


def test_the_api_server_sends_a_410_inside_an_open_watch(k8s: ApiClient, namespace: str) -> None:
    """The premise: not an HTTP error, an event in a 200 stream."""
    answer = rollbacks_since(client.CustomObjectsApi(k8s), namespace, TOO_OLD)
    try:
        first = json.loads(answer.readline())
    finally:
        answer.release_conn()
    assert answer.status == 200
    assert (first["type"], first["object"]["code"]) == ("ERROR", 410)


def test_raw_watch_raises_the_error_events_status(k8s: ApiClient, namespace: str) -> None:
    custom = client.CustomObjectsApi(k8s)
    events = RawWatch().stream(  # type: ignore[no-untyped-call]
        custom.list_namespaced_custom_object, api.GROUP, api.VERSION, namespace, api.PLURAL,
        resource_version=TOO_OLD, timeout_seconds=10,
    )  # fmt: skip
    with pytest.raises(ApiException) as raised:
        next(iter(events))
    assert raised.value.status == 410
    assert "too old resource version" in str(raised.value.reason)


def test_the_clients_raw_mode_fails_on_it(k8s: ApiClient, namespace: str) -> None:
    """Why RawWatch exists. pyproject allows kubernetes >= 30; the client's raw mode
    (``Watch.stream(deserialize=False)``, kubernetes-client/python#2404, in 34 and later) fails
    on the ERROR event with a KeyError (37.0.2); a client without it passes the argument on to
    the API call, which refuses it (a TypeError naming it): no raw mode to use. Either holds;
    should the client come to raise the event's ApiException, this fails, and RawWatch can
    go."""
    custom = client.CustomObjectsApi(k8s)
    events = watch.Watch().stream(  # type: ignore[no-untyped-call]
        custom.list_namespaced_custom_object, api.GROUP, api.VERSION, namespace, api.PLURAL,
        resource_version=TOO_OLD, timeout_seconds=10, deserialize=False,
    )  # fmt: skip
    with pytest.raises((KeyError, TypeError)) as raised:
        next(iter(events))
    expected = "raw_object" if isinstance(raised.value, KeyError) else "deserialize"
    assert expected in str(raised.value)


def test_raw_watch_gives_events_as_plain_dicts(k8s: ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(k8s)
    version = core.list_namespaced_pod(namespace).metadata.resource_version
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    core.create_namespaced_pod(namespace, pod)
    w = RawWatch()  # type: ignore[no-untyped-call]
    stream = w.stream(  # type: ignore[no-untyped-call]
        core.list_namespaced_pod, namespace, resource_version=version, timeout_seconds=30
    )
    event = next(iter(stream))
    w.stop()  # type: ignore[no-untyped-call]
    assert event["type"] == "ADDED"
    assert isinstance(event["object"], dict)
    assert event["object"]["metadata"]["name"] == "p"
