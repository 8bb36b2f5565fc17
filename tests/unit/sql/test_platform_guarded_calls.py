"""Which SELECTs run one platform call or not (`guarded_call`): `f(...) WHERE <condition>`,
and pg_cron's lookup spelling of "unschedule the job named x if it exists", read as
`cron.unschedule('x')` so that a later `cron.schedule('x', …)` of the same migration is known
to replace it (seen in a real project: two such migrations left with a MANUAL item)."""

from __future__ import annotations

import pglast
import pytest

from migration_rollback.sql import platform_calls


def guarded(text: str) -> tuple[str, str, tuple[str | None, ...]] | None:
    call = platform_calls.guarded_call(pglast.parse_sql(text)[0].stmt)
    return None if call is None else (call.schema, call.name, call.args)


@pytest.mark.parametrize(
    ("text", "job"),
    [
        ("select cron.unschedule('x') where exists (select 1 from cron.job)", "x"),
        ("select cron.unschedule(jobname) from cron.job where jobname = 'x'", "x"),
        ("select cron.unschedule(jobid) from cron.job where jobname = 'x'", "x"),
        ("select cron.unschedule(j.jobid) from cron.job j where j.jobname = 'x'", "x"),
        ("select cron.unschedule(jobid) from cron.job where 'x' = jobname", "x"),
    ],
)
def test_an_unschedule_that_runs_when_the_job_exists(text: str, job: str) -> None:
    assert guarded(text) == ("cron", "unschedule", (job,))


@pytest.mark.parametrize(
    "text",
    [
        "select cron.unschedule(jobname) from cron.job where jobname like 'x%'",  # many jobs
        "select cron.unschedule(jobname) from cron.job where jobname = 'x' or true",
        "select cron.unschedule(jobname) from public.job where jobname = 'x'",  # not pg_cron's
        "select cron.unschedule(command) from cron.job where jobname = 'x'",
        "select cron.unschedule(jobname) from cron.job, cron.job_run_details where jobname = 'x'",
        "select cron.unschedule(jobname) from cron.job where jobname = 'x' limit 1",
        "select cron.schedule(jobname) from cron.job where jobname = 'x'",  # not an unschedule
        "select cron.unschedule(jobname) from cron.job",  # every job
        "select cron.unschedule('x')",  # not guarded: a plain call
    ],
)
def test_anything_else_is_not_read_as_one_named_unschedule(text: str) -> None:
    assert guarded(text) is None
