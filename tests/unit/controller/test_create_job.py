"""`Interpreter.create_job`: only the create decides "not created". A failure after the API
server created the Job (reading its answer) must not be taken for a refusal of the create:
the Job exists, and its fate stays "may still commit"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from migration_rollback.controller import interpreter as interp
from migration_rollback.controller.cache import WatchCache
from migration_rollback.controller.observe import Memory
from migration_rollback.kube import jobs
from migration_rollback.lifecycle import actions as a

CREATE = a.CreateJob("undo-rollback-abc", "rollback", 1, False)
CREATED = {"metadata": {"name": CREATE.name, "namespace": "shop", "resourceVersion": "7"}}


class Batch:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.sent = error, 0

    def create_namespaced_job(self, namespace: str, manifest: dict[str, Any]) -> object:
        self.sent += 1
        if self.error is not None:
            raise self.error
        return object()


class Api:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def sanitize_for_serialization(self, obj: object) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return CREATED


def make(batch: Batch, api: Api, monkeypatch: pytest.MonkeyPatch) -> interp.Interpreter:
    manifest = {"metadata": {"name": CREATE.name, "namespace": "shop"}}
    monkeypatch.setattr(interp, "job_request", lambda *_: None)
    monkeypatch.setattr(jobs, "build_job", lambda _: manifest)
    clients = SimpleNamespace(batch=batch, api=api)
    obj = {"metadata": {"namespace": "shop", "name": "undo"}, "spec": {}, "status": {}}
    return interp.Interpreter(clients, None, WatchCache(), Memory(), obj, None, None)  # type: ignore[arg-type]


def test_a_failure_reading_the_created_job_counts_it_as_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = make(Batch(), Api(TypeError("cannot serialize")), monkeypatch)
    run.create_job(CREATE)  # no error: the Job was created
    assert CREATE.name in run.memory.seen_jobs
    assert CREATE.name not in run.memory.job_versions


def test_a_created_job_is_remembered_with_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    run = make(Batch(), Api(None), monkeypatch)
    run.create_job(CREATE)
    assert run.memory.job_versions[CREATE.name] == "7"
    assert run.cache.job("shop", CREATE.name) == CREATED


def test_a_refused_create_is_not_seen_as_created(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = ApiException(status=422, reason="Unprocessable Entity")
    run = make(Batch(refused), Api(None), monkeypatch)
    with pytest.raises(ApiException):
        run.create_job(CREATE)
    assert CREATE.name not in run.memory.seen_jobs
