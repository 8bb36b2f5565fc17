"""One JSON line per step on stderr, and the same timings in the result.

Log collectors in the cluster (and `kubectl logs`) read stderr; a line per step with `step`,
`outcome` and `duration_ms` lets someone see at 3 a.m. where a rollback is, or where it stopped.
Every line goes through the redactor first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from migration_rollback.redact import Redactor
from migration_rollback.runner.result import StepTiming


@dataclass
class StepHandle:
    """What a step reports about itself: its outcome (default "ok") and extra log fields."""

    name: str
    outcome: str = "ok"
    detail: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


class StepLog:
    """Times steps, logs each as a JSON line, and keeps the timings for the result."""

    def __init__(
        self,
        stream: TextIO,
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._redactor = redactor
        self._clock = clock
        self.timings: list[StepTiming] = []

    def emit(self, event: dict[str, Any]) -> None:
        line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), **event}
        self._stream.write(json.dumps(self._redactor.scrub_obj(line), default=str) + "\n")
        self._stream.flush()

    @contextmanager
    def step(self, name: str) -> Iterator[StepHandle]:
        handle = StepHandle(name)
        start = self._clock()
        try:
            yield handle
        except BaseException as exc:
            handle.outcome = "failed"
            handle.detail = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            elapsed = int((self._clock() - start) * 1000)
            detail = self._redactor.scrub(handle.detail) if handle.detail else None
            self.timings.append(StepTiming(name, handle.outcome, elapsed, detail))
            event: dict[str, Any] = {
                "step": name,
                "outcome": handle.outcome,
                "duration_ms": elapsed,
            }
            if detail:
                event["detail"] = detail
            self.emit({**event, **handle.fields})
