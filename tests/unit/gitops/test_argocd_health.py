"""The Argo CD health check (gitops/argocd/health.lua), run in a real Lua interpreter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lupa  # a real Lua runtime, from PyPI (dev dependency)
import pytest

from migration_rollback.lifecycle.phases import Phase

SCRIPT = (Path(__file__).resolve().parents[3] / "gitops" / "argocd" / "health.lua").read_text()


def health(obj: dict[str, Any]) -> tuple[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    to_lua = runtime.eval("function(x) return x end")

    def table(value: Any) -> Any:
        if isinstance(value, dict):
            return runtime.table_from({k: table(v) for k, v in value.items()})
        return to_lua(value)

    runtime.globals().obj = table(obj)
    result = runtime.execute(SCRIPT)
    return str(result["status"]), str(result["message"])


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.SUCCEEDED, "Healthy"),
        (Phase.FAILED, "Degraded"),
        (Phase.AWAITING_APPROVAL, "Suspended"),
        *((p, "Progressing") for p in Phase if not p.terminal and p is not Phase.AWAITING_APPROVAL),
    ],
)
def test_every_phase_maps_to_an_argo_health(phase: Phase, expected: str) -> None:
    status, message = health({"metadata": {}, "status": {"phase": str(phase), "message": "m"}})
    assert status == expected
    assert message.startswith(str(phase))


def test_new_and_terminating_resources_are_progressing() -> None:
    assert health({"metadata": {}})[0] == "Progressing"
    deleting = {"metadata": {"deletionTimestamp": "2026-11-24T03:00:00Z"},
                "status": {"phase": "Failed"}}  # fmt: skip
    assert health(deleting) == (
        "Progressing",
        "Deleting: the operator restores the application first",
    )
