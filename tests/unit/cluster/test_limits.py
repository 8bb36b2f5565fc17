"""Which client limits the test cluster gives its controller manager (pure: nothing is
started): the binary's own (upstream) defaults by default, production-like ones on request,
a clear error naming the variable otherwise; and the flags each setting turns into."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cluster import ControlPlane, ControlPlaneError
from tests.cluster.limits import LIMITS_ENV, PRODUCTION, UPSTREAM, ControllerLimits


@pytest.mark.parametrize(
    ("env", "argument", "limits"),
    [
        (None, None, UPSTREAM),
        ("", None, UPSTREAM),
        ("production", None, PRODUCTION),
        ("upstream", None, UPSTREAM),
        ("production", UPSTREAM, UPSTREAM),
    ],
    ids=["default", "empty", "environment", "environment, upstream", "argument over env"],
)
def test_cluster_limits(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    argument: ControllerLimits | None,
    limits: ControllerLimits,
) -> None:
    if env is None:
        monkeypatch.delenv(LIMITS_ENV, raising=False)
    else:
        monkeypatch.setenv(LIMITS_ENV, env)
    assert ControlPlane(tmp_path, limits=argument).limits == limits


@pytest.mark.parametrize("raw", ["Upstream", "fast", "100"])
def test_an_unknown_setting_names_the_variable_and_the_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(LIMITS_ENV, raw)
    choices = "'production' or 'upstream'"
    with pytest.raises(ControlPlaneError, match=f"{LIMITS_ENV}='{raw}'.*{choices}"):
        ControlPlane(tmp_path)


def test_upstream_is_the_controller_managers_own_defaults() -> None:
    """kube-controller-manager v1.36: --kube-api-qps 20, --kube-api-burst 30, 5 workers each."""
    assert UPSTREAM.flags() == [
        "--kube-api-qps=20",
        "--kube-api-burst=30",
        "--concurrent-deployment-syncs=5",
        "--concurrent-replicaset-syncs=5",
        "--concurrent-job-syncs=5",
    ]


def test_production_raises_the_client_limits_only() -> None:
    """Production-like: a client bucket of 100 (Kubernetes' scalability tests, CCE's default
    below 1,000 nodes); the sync concurrency stays the upstream 5."""
    assert (PRODUCTION.kube_api_qps, PRODUCTION.kube_api_burst) == (100, 100)
    assert PRODUCTION.flags()[2:] == UPSTREAM.flags()[2:]
    assert "--kube-api-qps=100" in PRODUCTION.describe()
