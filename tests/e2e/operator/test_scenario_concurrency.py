"""Concurrency: two resources on one database take turns; two operators never both act;
the metrics record what happened."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from scenario import OperatorProcess, Shop, wait_for

pytestmark = pytest.mark.e2e

SOCIAL = "20251113000001_timeline_social_features"
EVENTS = "20251105000001_timeline_events"
SLOW = """-- ROLLBACK: {migration}
SELECT pg_sleep(3);
DROP INDEX IF EXISTS public.{index};
"""


def window(status: dict[str, object]) -> tuple[dt.datetime, dt.datetime]:
    steps = {s["name"]: s for s in status["steps"]}  # type: ignore[attr-defined]
    start = steps["DryRun"]["startedAt"]
    end = status["finishedAt"]
    return dt.datetime.fromisoformat(str(start)), dt.datetime.fromisoformat(str(end))


def test_two_resources_on_one_database_never_overlap(shop: Shop) -> None:
    # Two different migrations of the same database, so either order is valid.
    targets = (
        ("first", SOCIAL, "idx_timeline_comments_event"),
        ("second", EVENTS, "idx_timeline_events_author"),
    )
    for name, migration, index in targets:
        shop.mrb(
            name,
            migration=migration,
            rollback={"sql": SLOW.format(migration=migration, index=index)},
            backup={"mode": "none"},
        )
    a = shop.wait_phase("first", "Succeeded", "Failed", timeout=180)["status"]
    b = shop.wait_phase("second", "Succeeded", "Failed", timeout=180)["status"]
    assert (a["phase"], b["phase"]) == ("Succeeded", "Succeeded"), (
        a.get("message"),
        b.get("message"),
    )
    (a_start, a_end), (b_start, b_end) = window(a), window(b)
    assert a_end <= b_start or b_end <= a_start, "the two rollbacks overlapped on one database"
    wait_for(
        "a WaitingForDatabase event",
        lambda: "WaitingForDatabase" in shop.events("first") + shop.events("second"),
    )


# What one successful rollback adds to: each counts once when the terminal status patch has
# returned (controller.telemetry), which a phase wait can see a moment before.
COUNTED = [
    ("migration_rollback_runs_total", 'outcome="succeeded"'),
    ("migration_rollback_step_duration_seconds_count", 'step="Rollback"'),
    ("migration_rollback_downtime_seconds_count", ""),
]
IN_PROGRESS = [("migration_rollback_in_progress", "")]


def test_metrics_count_outcomes(shop: Shop, operator: OperatorProcess) -> None:
    before = operator.metric_values(COUNTED)
    quick = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;"
    shop.mrb(
        "counted",
        migration="20251113000001_timeline_social_features",
        rollback={"sql": quick},
        backup={"mode": "none"},
    )
    shop.wait_phase("counted", "Succeeded", timeout=180)
    after = operator.wait_metrics(
        "the rollback counted",
        COUNTED,
        lambda now: all(now[key] > before[key] for key in COUNTED),
    )
    assert after == {key: before[key] + 1 for key in COUNTED}
    # The gauge drops when the rollback's daemon returns, after its last status patch.
    operator.wait_metrics("no rollback in progress", IN_PROGRESS, lambda now: not any(now.values()))


def test_a_second_operator_waits_for_the_lease_then_takes_over(
    shop: Shop, operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    standby = OperatorProcess(operator.kubeconfig, tmp_path_factory.mktemp("standby") / "log")
    standby.identity = f"standby-{os.getpid()}"
    standby.start(wait_ready=False)
    try:
        # Alive but not leading: /healthz answers, /readyz does not, it acts on nothing.
        wait_for("the standby to serve /healthz", standby.alive)
        # /readyz says why: the lease, and who holds it.
        waiting = f"the leader lease migration-rollback-operator (held by {operator.identity})"
        wait_for("the standby to wait for the lease", lambda: waiting in standby.readiness())
        assert not standby.ready()
        operator.kill()
        wait_for("the standby to take the lease", standby.ready, timeout=60)
        shop.mrb(
            "after-failover", migration="20251113000001_timeline_social_features",
            rollback={"sql": f"-- ROLLBACK: {SOCIAL}\nSELECT 1;"}, backup={"mode": "none"},
        )  # fmt: skip
        done = shop.wait_phase("after-failover", "Succeeded", "Failed", timeout=180)
        assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    finally:
        standby.stop()
        operator.start()
