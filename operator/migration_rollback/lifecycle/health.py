"""Health-check verdicts: consecutive successes and failures against thresholds (pure)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any


class Verdict(enum.StrEnum):
    PENDING = "Pending"
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    url: str
    expect_status: int = 200
    json_field: str | None = None
    expect_value: str | None = None
    period_seconds: float = 2
    timeout_seconds: float = 5
    success_threshold: int = 3
    failure_threshold: int = 15

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> CheckSpec:
        return cls(
            name=str(spec["name"]),
            url=str(spec["url"]),
            expect_status=int(spec.get("expectStatus", 200)),
            json_field=spec.get("jsonField"),
            expect_value=spec.get("expectValue"),
            period_seconds=float(spec.get("periodSeconds", 2)),
            timeout_seconds=float(spec.get("timeoutSeconds", 5)),
            success_threshold=int(spec.get("successThreshold", 3)),
            failure_threshold=int(spec.get("failureThreshold", 15)),
        )


@dataclass(frozen=True, slots=True)
class Probe:
    """One HTTP answer (or its absence) as the checker saw it."""

    status: int | None
    body: str = ""
    error: str | None = None


def probe_ok(spec: CheckSpec, probe: Probe) -> tuple[bool, str]:
    if probe.error is not None:
        return False, probe.error
    if probe.status != spec.expect_status:
        return False, f"status {probe.status}, expected {spec.expect_status}"
    if spec.json_field is None:
        return True, f"status {probe.status}"
    try:
        value: Any = json.loads(probe.body)
        for part in spec.json_field.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
    except (ValueError, KeyError, IndexError, TypeError):
        return False, f"no field {spec.json_field} in the JSON body"
    text = json.dumps(value) if not isinstance(value, str) else value
    if spec.expect_value is not None and text != spec.expect_value:
        return False, f"{spec.json_field} is {text!r}, expected {spec.expect_value!r}"
    return True, f"{spec.json_field} = {text!r}"


@dataclass
class Tracker:
    """Healthy after `success_threshold` passes in a row; unhealthy after `failure_threshold`
    failures in all. Failures are not reset by a pass: a check that flaps between the two
    would otherwise keep the rollback in Verifying, with the app half-working, for ever."""

    spec: CheckSpec
    successes: int = 0
    failures: int = 0
    last: str = ""

    def record(self, probe: Probe) -> Verdict:
        ok, self.last = probe_ok(self.spec, probe)
        if ok:
            self.successes += 1
        else:
            self.failures += 1
            self.successes = 0
        return self.verdict

    @property
    def verdict(self) -> Verdict:
        if self.successes >= self.spec.success_threshold:
            return Verdict.HEALTHY
        if self.failures >= self.spec.failure_threshold:
            return Verdict.UNHEALTHY
        return Verdict.PENDING
