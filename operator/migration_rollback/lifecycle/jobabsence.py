"""A Job the phase records that the API server does not have (pure): what it is, judged only
from facts that prove it, never from a cache or a memory that may be empty.

A restarted operator knows nothing but status. Status may name a Job whose create was never
sent (the operator died between recording `jobName` and the create), or one that was created
and deleted since (by a human, with or without its pods). Told apart wrongly, the first
leaves the application down for a Job that never ran, and the second runs the rollback twice.
So the observer reads the Job by name from the API server (a GET, not the watch cache, which a
restarted operator has yet to fill) and lists its pods by the Job's label; and status says
whether its create was accepted (`jobCreated`, recorded only once the create returned). Then:

| pods of it not ended | pods of it at all | create accepted | fate |
|---|---|---|---|
| some | - | - | may still commit: wait for them |
| none | some | - | gone: it was created, and can commit nothing more |
| none | none | yes | gone (deleted with its pods) |
| none | none | no | never created: create it (create-if-absent: a 409 means it is there) |
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_rollback.lifecycle.errorbudget import JobFate


@dataclass(frozen=True)
class AbsentJob:
    """What was seen of a recorded Job a GET of its name answered 404 for."""

    accepted: bool  # status.jobCreated names it, or this operator saw it exist
    pods: int  # pods with its label, listed after that GET: ended or not
    running: int  # of those, not ended or being deleted: their containers may still write


def fate(job: AbsentJob) -> JobFate:
    """The table above. A Job created then deleted with all its pods before anyone recorded
    its create (the operator died in between) is the one case it cannot see: nothing of it is
    left to see; it would be created again (its runner refuses, before it writes anything, a
    migration no longer recorded as applied)."""
    if job.running:
        return JobFate.MAY_COMMIT
    if job.pods or job.accepted:
        return JobFate.GONE
    return JobFate.NEVER_CREATED
