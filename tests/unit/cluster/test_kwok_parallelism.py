"""How many pod workers the test cluster gives kwok (pure: nothing is started): the project's
default, the environment's override, or a clear error naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cluster import ControlPlane, ControlPlaneError
from tests.cluster.constants import KWOK_POD_PARALLELISM, KWOK_POD_PARALLELISM_ENV


@pytest.mark.parametrize(
    ("env", "argument", "workers"),
    [(None, None, KWOK_POD_PARALLELISM), ("4", None, 4), ("4", 8, 8), (None, 16, 16)],
    ids=["default", "environment", "argument over environment", "argument"],
)
def test_kwok_pod_workers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    argument: int | None,
    workers: int,
) -> None:
    if env is None:
        monkeypatch.delenv(KWOK_POD_PARALLELISM_ENV, raising=False)
    else:
        monkeypatch.setenv(KWOK_POD_PARALLELISM_ENV, env)
    assert ControlPlane(tmp_path, kwok_pod_parallelism=argument).kwok_pod_parallelism == workers


@pytest.mark.parametrize("raw", ["0", "-3", "four", "4.5"])
def test_a_bad_worker_count_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(KWOK_POD_PARALLELISM_ENV, raw)
    with pytest.raises(ControlPlaneError, match=f"{KWOK_POD_PARALLELISM_ENV}='{raw}'"):
        ControlPlane(tmp_path)
