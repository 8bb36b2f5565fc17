"""The rollback flow for one resource: each phase idempotent, recorded before it acts.

A kopf daemon runs `RollbackFlow.run()` per resource. Progress lives in the resource's status,
so after an operator restart the daemon resumes from the recorded phase: the Job is never
created twice (fixed names, create-if-absent), the original replica counts are recorded once
(never overwritten by the zero we set), and every external call can safely be repeated.

Input never makes the flow loop: a bad value ends the resource Failed with a reason. Free text
written to status, Events or the log is scrubbed of the database URL's secrets first, and every
terminal phase releases the database's Lease in `finish()`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from migration_rollback import conninfo
from migration_rollback.controller import target_set
from migration_rollback.errors import SqlSyntaxError
from migration_rollback.jobresult import BlockingSession, JobResult
from migration_rollback.kube import jobs, leases, maintenance, resources, sources, workloads
from migration_rollback.kube.client import Clients
from migration_rollback.lifecycle import analysis, approval, conditions, health, outcomes, policy
from migration_rollback.lifecycle.durations import human, parse_timestamp
from migration_rollback.lifecycle.model import ConfigMapKeyRef, RollbackSpec, RollbackStatus
from migration_rollback.lifecycle.phases import Phase, Reason, StepName, StepState
from migration_rollback.lifecycle.target import TargetError
from migration_rollback.metrics import (
    DOWNTIME,
    DURATION,
    HEALTH_CHECK_FAILURES,
    HELD_DOWN,
    OUTCOME_DRY_RUN,
    OUTCOME_FAILED,
    OUTCOME_SUCCEEDED,
    RUNS,
    STEP_DURATION,
)
from migration_rollback.redact import Redactor
from migration_rollback.settings import Settings

log = logging.getLogger("migration_rollback.flow")


class Terminal(Exception):
    """A failure no retry will fix; the resource goes to Failed (after restoring the app)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Stopped(Exception):
    """The daemon is being stopped (operator shutdown or resource deletion)."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def http_probe(url: str, timeout: float) -> health.Probe:
    import httpx

    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return health.Probe(status=None, error=f"{type(exc).__name__} calling {url}")
    return health.Probe(status=response.status_code, body=response.text[:65536])


# A rollback holds its database's Lease this long without renewal; the flow renews it every
# tenth of that while it waits, so only a dead operator lets it lapse.
DATABASE_LEASE_SECONDS = 600

# How often a Job nobody else waits on is re-read when no watch event came first.
JOB_FALLBACK_POLL_SECONDS = 5.0
# How often the workloads are re-read while their watch events (and the Job's) wake the flow:
# only as a fallback.
WATCHED_FALLBACK_POLL_SECONDS = 2.0

# Status fields holding free text, some of it the Job's (its result, libpq's errors): scrubbed of
# the URL's secrets on every write. Not the others: timestamps and names must stay intact.
FREE_TEXT_FIELDS = frozenset({"message", "failure", "result", "impact", "backup"})
URL_FIELD = "spec.database.urlSecretRef"


class RollbackFlow:
    def __init__(
        self,
        clients: Clients,
        settings: Settings,
        namespace: str,
        name: str,
        stopped: Callable[[float], bool],
    ) -> None:
        self.clients = clients
        self.settings = settings
        self.namespace = namespace
        self.name = name
        self._sleep_or_stop = stopped  # returns True when asked to stop
        self.obj: dict[str, Any] = {}
        self._lock_renewed = 0.0
        self._redactor: Redactor | None = None
        # (kind, name) of the workloads this flow acts on: their watch events wake it.
        self.watched: frozenset[tuple[str, str]] = frozenset()

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def spec(self) -> RollbackSpec:
        return RollbackSpec.from_obj(self.obj)

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.obj.get("status") or {})

    @property
    def phase(self) -> Phase:
        return Phase(self.status.get("phase") or Phase.PENDING)

    def refresh(self) -> None:
        self.obj = resources.get(self.clients, self.namespace, self.name)

    def wait(self, seconds: float | None = None) -> None:
        self.renew_database_lock()
        if self._sleep_or_stop(seconds if seconds is not None else self.settings.poll_seconds):
            raise Stopped()

    def patch(self, **status: Any) -> None:
        status = {
            key: self.redactor.scrub_obj(value) if key in FREE_TEXT_FIELDS else value
            for key, value in status.items()
        }
        resources.patch_status(self.clients, self.namespace, self.name, status)
        self.obj.setdefault("status", {}).update(status)

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        message = self.redactor.scrub(message)
        try:
            resources.post_event(self.clients, self.obj, reason, message, warning)
        except Exception:  # an event is a courtesy; never fail the flow over one
            log.warning("could not post event %s for %s/%s", reason, self.namespace, self.name)

    def set_phase(self, phase: Phase, reason: Reason | str, message: str, **extra: Any) -> None:
        """One status patch: the phase, its reason and conditions, and `extra` fields."""
        message = self.redactor.scrub(message)  # it also goes into conditions and the log
        generation = int(self.obj["metadata"].get("generation", 1))
        decision = self.status.get("approved")
        desired = conditions.desired_conditions(
            phase, str(reason), message, generation, approved=decision
        )
        stamp = now_iso()
        merged = conditions.merge_conditions(self.status.get("conditions"), desired, stamp)
        if self.status.get("phase") != str(phase) or not self.status.get("phaseTransitionTime"):
            extra["phaseTransitionTime"] = stamp
        self.patch(
            **extra,
            phase=str(phase),
            reason=str(reason),
            message=message,
            observedGeneration=generation,
            conditions=merged,
        )
        log.info("%s/%s: %s (%s) %s", self.namespace, self.name, phase, reason, message)

    def step(self, name: StepName, state: StepState, message: str = "") -> None:
        steps = [dict(s) for s in self.status.get("steps") or []]
        current = next((s for s in steps if s.get("name") == str(name)), None)
        stamp = now_iso()
        if current is None:
            current = {"name": str(name), "startedAt": stamp}
            steps.append(current)
        current["state"] = str(state)
        if message:
            # Scrubbed before it is cut: a cut could split a secret the scrubber then misses.
            message = self.redactor.scrub(message)
            current["message"] = message[:500]
        if state is not StepState.RUNNING:
            current["finishedAt"] = stamp
            started = parse_timestamp(current.get("startedAt"))
            if started is not None and state is StepState.DONE:
                STEP_DURATION.labels(str(name)).observe(
                    (dt.datetime.now(dt.UTC) - started).total_seconds()
                )
        self.patch(steps=steps)
        warning = state is StepState.FAILED
        self.event(f"{name}{state}", message or f"{name}: {str(state).lower()}", warning)

    # --- the database URL -------------------------------------------------------------------

    def url_where(self) -> str:
        """Where the URL comes from, for messages: names the Secret and key, never the value."""
        db = self.spec.database.url_secret_ref
        return f"Secret {db.name} key {db.key} ({URL_FIELD})"

    def database_target(self) -> conninfo.DatabaseTarget:
        """The Secret's URL parsed as libpq parses it (SourceNotFoundError while it is missing).
        A value libpq cannot parse is Terminal: no retry fixes it, and the message holds no
        part of it. Also refreshes the redactor, so it scrubs what the Jobs are given."""
        db = self.spec.database.url_secret_ref
        text = sources.secret_value(self.clients, self.namespace, db.name, db.key, URL_FIELD)
        try:
            target = conninfo.parse_database_url(text, where=self.url_where())
        except conninfo.InvalidDatabaseUrlError as exc:
            raise Terminal(Reason.INVALID_DATABASE_URL, str(exc)) from None
        self._redactor = target.redactor()
        return target

    @property
    def redactor(self) -> Redactor:
        """Scrubs the URL's secrets; built from the Secret on first use (after a restart too)."""
        if self._redactor is None:
            try:
                self.database_target()
            except (sources.SourceNotFoundError, Terminal):
                # Nothing parsed, nothing to scrub yet; no message holds the raw value, and a
                # later read (the Secret created or fixed) builds the real one.
                return Redactor.none()
        return self._redactor or Redactor.none()

    def step_state(self, name: StepName) -> str | None:
        for s in self.status.get("steps") or []:
            if s.get("name") == str(name):
                return str(s.get("state"))
        return None

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        self.refresh()
        handlers: dict[Phase, Callable[[], Phase]] = {
            Phase.PENDING: self.start,
            Phase.VALIDATING: self.validate,
            Phase.AWAITING_APPROVAL: self.await_approval,
            Phase.PREPARING: self.prepare,
            Phase.SCALING_DOWN: self.scale_down,
            Phase.ROLLING_BACK: self.roll_back,
            Phase.SCALING_UP: self.scale_up,
            Phase.VERIFYING: self.verify,
            Phase.RESTORING: self.restore,
        }
        while not self.phase.terminal:
            try:
                handlers[self.phase]()
            except Terminal as failure:
                self.fail(failure.reason, failure.message)
            self.refresh()

    def start(self) -> Phase:
        self.patch(startedAt=self.status.get("startedAt") or now_iso())
        self.set_phase(
            Phase.VALIDATING, Reason.VALIDATING, "resolving and checking the rollback SQL"
        )
        return Phase.VALIDATING

    # --- 1. validate ------------------------------------------------------------------------

    def resolve_sql(self) -> str:
        source = self.spec.rollback
        if source.sql is not None:
            return source.sql
        if source.config_map is not None:
            ref = source.config_map
            return sources.config_map_value(
                self.clients, self.namespace, ref.name, ref.key, "spec.rollback.configMapRef"
            )
        ref = source.generate_from or ConfigMapKeyRef("", "")
        forward = sources.config_map_value(
            self.clients,
            self.namespace,
            ref.name,
            ref.key,
            "spec.rollback.generateFrom.configMapRef",
        )
        migration = self.spec.migration or ref.key.removesuffix(".sql")
        return analysis.generated_rollback(forward, migration, ref.key)

    def validate(self) -> Phase:
        self.step(StepName.VALIDATE, StepState.RUNNING)
        try:
            if self.spec.target_version:  # [targetVersion] the set, frozen (target_set.py)
                validated = target_set.validate(self.clients, self.obj)
                self.database_target()
                generation = int(self.obj["metadata"].get("generation", 1))
                self.patch(**validated.status, observedGeneration=generation)
                self.step(StepName.VALIDATE, StepState.DONE, validated.summary)
                return self.await_approval()
            text = self.resolve_sql()
            self.database_target()  # a URL libpq cannot parse ends here, before any Job
        except sources.SourceNotFoundError as exc:
            # GitOps may apply the ConfigMap a moment after the resource: wait, visibly.
            self.patch(message=f"waiting: {exc}", reason=str(Reason.SOURCE_NOT_FOUND))
            self.wait(5)
            return Phase.VALIDATING
        except (Terminal, TargetError) as failure:  # [targetVersion] TargetError
            self.step(StepName.VALIDATE, StepState.FAILED, failure.message)
            raise Terminal(failure.reason, failure.message) from None
        try:
            result = analysis.analyze(text, "rollback.sql")
        except SqlSyntaxError as exc:
            self.step(StepName.VALIDATE, StepState.FAILED, str(exc))
            raise Terminal(Reason.INVALID_SQL, f"rollback SQL does not parse: {exc}") from None
        pinned = self.spec.rollback.sha256
        if pinned and pinned != result.sha256:
            message = f"spec.rollback.sha256 is {pinned} but the SQL hashes to {result.sha256}"
            self.step(StepName.VALIDATE, StepState.FAILED, message)
            raise Terminal(Reason.SHA256_MISMATCH, message)
        owner = resources.owner_reference(self.obj)
        cm_name = analysis.child_name(self.name, "sql", result.sha256)
        jobs.ensure_config_map(
            self.clients, jobs.sql_config_map(cm_name, self.namespace, owner, result.sql)
        )
        self.patch(
            sqlSha256=result.sha256,
            sqlConfigMap=cm_name,
            plan=result.summary.to_status(),
            observedGeneration=int(self.obj["metadata"].get("generation", 1)),
        )
        s = result.summary
        self.step(
            StepName.VALIDATE,
            StepState.DONE,
            f"{s.statements} statements, {s.manual_items} manual, "
            f"{'destroys data' if s.destroys_data else 'no data loss'}, lock {s.strongest_lock}",
        )
        return self.await_approval()

    # --- 2. approval ------------------------------------------------------------------------

    def await_approval(self) -> Phase:
        generation = int(self.obj["metadata"].get("generation", 1))
        if int(self.status.get("observedGeneration", 0)) != generation:
            # The spec changed while waiting (allowed until the rollback starts): start over.
            self.set_phase(
                Phase.VALIDATING, Reason.VALIDATING, "the spec changed; validating again"
            )
            return Phase.VALIDATING
        plan = self.status.get("plan") or {}
        summary = approval.PlanSummary(
            statements=int(plan.get("statements", 0)),
            manual_items=int(plan.get("manualItems", 0)),
            destroys_data=bool(plan.get("destroysData", False)),
            non_transactional=int(plan.get("nonTransactional", 0)),
            strongest_lock=str(plan.get("strongestLock", "")),
        )
        decision = approval.decide(
            summary,
            str(self.status.get("sqlSha256")),
            self.obj["metadata"].get("annotations"),
            self.spec.allow_data_loss,
        )
        if not decision.approved:
            if (
                self.phase is not Phase.AWAITING_APPROVAL
                or self.status.get("message") != decision.message
            ):
                self.patch(approved=False)
                self.set_phase(Phase.AWAITING_APPROVAL, Reason.AWAITING_APPROVAL, decision.message)
                self.step(StepName.APPROVE, StepState.RUNNING, decision.message)
            self.wait(2)
            return Phase.AWAITING_APPROVAL
        if decision.needed:
            self.patch(approved=True)
            self.step(StepName.APPROVE, StepState.DONE, decision.message)
        self.set_phase(
            Phase.PREPARING, Reason.PREPARING, "rehearsing and backing up while the app serves"
        )
        return Phase.PREPARING

    # --- 3. prepare -------------------------------------------------------------------------

    def job_request(self, purpose: str, dry_run: bool) -> jobs.JobRequest:
        spec = self.spec
        job = spec.job
        attempt = self.attempt(purpose)
        # The rollback Job dumps right before its transaction, once the app is down: the dump
        # then holds every write, which one taken while the app still served would miss.
        db = spec.database.url_secret_ref
        sha = str(self.status["sqlSha256"])
        plan = self.status.get("plan") or {}
        return jobs.JobRequest(
            name=analysis.child_name(
                self.name, purpose if attempt == 1 else f"{purpose}{attempt}", sha
            ),
            namespace=self.namespace,
            owner=resources.owner_reference(self.obj),
            image=job.image or self.settings.image,
            migration=spec.migration or "",
            target_version=spec.target_version,  # [targetVersion] execute --to
            sql_config_map=str(self.status["sqlConfigMap"]),
            sha256=sha,
            url_secret=db.name,
            url_key=db.key,
            history_table=spec.database.history_table,
            dry_run=dry_run,
            backup_mode=spec.backup.mode,
            backup_pvc=spec.backup.persistent_volume_claim,
            max_age=spec.backup.max_age,
            lock_timeout=policy.attempt_lock_timeout(job.lock_timeout, attempt),
            statement_timeout=job.statement_timeout,
            allow_data_loss=spec.allow_data_loss,
            allow_manual=bool(self.status.get("approved")) and int(plan.get("manualItems", 0)) > 0,
            purge=spec.purge,
            timeout_seconds=job.timeout_seconds,
            actor=f"operator:{self.namespace}/{self.name}",
            service_account=job.service_account_name or self.settings.job_service_account,
            pod_overrides=self.settings.job_pod_overrides,
            purpose=purpose,
        )

    def attempt(self, purpose: str) -> int:
        """Which run of this Job the flow is on (1 until a retry; recorded in status)."""
        return int((self.status.get("attempts") or {}).get(purpose, 1))

    def retry_later(self, purpose: str, verdict: outcomes.JobVerdict) -> bool:
        """A retryable failure with retries left: record the next attempt, wait the backoff,
        and say so (the caller runs the next Job). False: the failure stands."""
        attempt = self.attempt(purpose)
        retries = self.spec.job.retries
        delay = policy.retry_delay(verdict.retryable, attempt, retries)
        if delay is None:
            return False
        attempts = dict(self.status.get("attempts") or {})
        attempts[purpose] = attempt + 1
        message = (
            f"{purpose} attempt {attempt} of {retries + 1} failed with nothing applied: "
            f"{verdict.message}; trying again in {delay:g}s"
        )
        self.patch(attempts=attempts, reason=str(Reason.TRANSIENT_ERROR), message=message)
        self.event(str(Reason.TRANSIENT_ERROR), message, warning=True)
        self.wait(delay)
        return True

    def run_job(
        self, request: jobs.JobRequest, while_waiting: Callable[[], None] | None = None
    ) -> outcomes.JobVerdict:
        """Create the Job unless it exists (a resumed flow waits for the same one), wait for
        it, record its result in status and judge it."""
        self.patch(jobName=request.name)
        jobs.ensure_job(self.clients, jobs.build_job(request))
        while True:
            if while_waiting is not None:
                while_waiting()
            state = jobs.read_job(self.clients, self.namespace, request.name)
            if state is None:
                raise Terminal(Reason.JOB_FAILED, f"Job {request.name} disappeared")
            if state.finished:
                self.reload_redactor()
                # Scrubbed before anything is judged, cut or written.
                scrubbed = self.redactor.scrub_obj(state.result) if state.result else None
                result = JobResult.from_dict(scrubbed) if scrubbed else None
                self.record_result(result)
                return outcomes.judge(
                    state.succeeded, result, self.redactor.scrub(state.message), self.url_where()
                )
            # The Job's watch event ends the wait when it finishes (controller.handlers); the
            # poll is the fallback. Holding workloads down needs the short one.
            self.wait(self.watched_poll if while_waiting is not None else JOB_FALLBACK_POLL_SECONDS)

    def reload_redactor(self) -> None:
        """The Job's pod read the Secret when it started: scrub with that value should the
        Secret have changed since validation; keep what we have if it is gone or unparsable."""
        try:
            self.database_target()
        except (sources.SourceNotFoundError, Terminal):
            log.warning("%s/%s: could not re-read %s", self.namespace, self.name, URL_FIELD)

    def database_lease(self) -> str:
        """The Lease named after host, port and database (no credentials) of the Secret's URL;
        a URL that no longer parses is Terminal, a Secret deleted since validation is waited for."""
        while True:
            try:
                return f"mrb-db-{self.database_target().identity}"
            except sources.SourceNotFoundError as exc:
                self.patch(message=f"waiting: {exc}", reason=str(Reason.SOURCE_NOT_FOUND))
                self.wait(5)

    def hold_database(self) -> None:
        """One rollback per database at a time, across namespaces."""
        name = self.status.get("databaseLock") or self.database_lease()
        identity = f"{self.namespace}/{self.name}"
        while True:
            holder = leases.try_acquire(
                self.clients, self.settings.namespace, name, identity, DATABASE_LEASE_SECONDS
            )
            if holder is None:
                if self.status.get("databaseLock") != name:
                    self.patch(databaseLock=name)
                return
            if self.status.get("reason") != str(Reason.WAITING_FOR_DATABASE):
                self.patch(
                    reason=str(Reason.WAITING_FOR_DATABASE),
                    message=f"another rollback ({holder}) holds this database; waiting",
                )
                self.event(str(Reason.WAITING_FOR_DATABASE), f"waiting for {holder}")
            self.wait(2)

    def renew_database_lock(self) -> None:
        """Keep the database's Lease while the flow holds it: a long Job must not let a second
        rollback of the same database start when the Lease would otherwise run out."""
        name = self.status.get("databaseLock")
        if not name or time.monotonic() - self._lock_renewed < DATABASE_LEASE_SECONDS / 10:
            return
        self._lock_renewed = time.monotonic()
        identity = f"{self.namespace}/{self.name}"
        try:
            holder = leases.try_acquire(
                self.clients, self.settings.namespace, str(name), identity, DATABASE_LEASE_SECONDS
            )
        except Exception:  # the next wait tries again; the Lease has minutes left
            log.warning("%s: could not renew the database Lease %s", identity, name)
            return
        if holder is not None:
            log.error("%s: the database Lease %s is held by %s", identity, name, holder)

    def prepare(self) -> Phase:
        self.hold_database()
        backup = self.spec.backup
        if backup.mode == "pgDump" and not backup.persistent_volume_claim:
            self.event(
                "BackupNotKept",
                "backup.mode is pgDump without a persistentVolumeClaim: each Job verifies its "
                "dump, but it is lost with the pod; set spec.backup.persistentVolumeClaim",
                warning=True,
            )
        if self.step_state(StepName.DRY_RUN) != str(StepState.DONE):
            self.step(StepName.DRY_RUN, StepState.RUNNING, "dry-run Job: everything, then ROLLBACK")
            while True:
                verdict = self.run_job(self.job_request("dryrun", dry_run=True))
                if verdict.succeeded or not self.retry_later("dryrun", verdict):
                    break
            if not verdict.succeeded:
                self.step(StepName.DRY_RUN, StepState.FAILED, verdict.message)
                raise Terminal(verdict.reason, f"the rehearsal failed: {verdict.message}")
            self.step(StepName.DRY_RUN, StepState.DONE, verdict.message or "dry run passed")
            self.warn_blocking_sessions()
        if self.spec.dry_run:
            self.finish(
                Phase.SUCCEEDED, Reason.DRY_RUN_SUCCEEDED, "dry run passed; nothing was changed"
            )
            return Phase.SUCCEEDED
        self.set_phase(Phase.SCALING_DOWN, Reason.SCALING_DOWN, "stopping the application")
        return Phase.SCALING_DOWN

    def warn_blocking_sessions(self) -> None:
        """Before the downtime: the sessions the rehearsal found that would hold the rollback
        up (and, behind it, every query of the application)."""
        sessions = [
            BlockingSession(
                pid=int(b.get("pid", 0)),
                state=str(b.get("state", "")),
                seconds=float(b.get("seconds", 0)),
                user=b.get("user"),
                application=b.get("application"),
                relations=tuple(b.get("relations") or ()),
            )
            for b in self.status.get("blockingSessions") or []
        ]
        if sessions:
            self.event(
                "BlockingSessions",
                f"{len(sessions)} session(s) would block the rollback's locks: "
                + "; ".join(b.describe() for b in sessions),
                warning=True,
            )

    def record_result(self, result: JobResult | None) -> None:
        if result is None:
            return
        patch: dict[str, Any] = {"result": result.summary()}
        patch.update(target_set.states_patch(self.status, result))  # [targetVersion]
        if result.impact:
            patch["impact"] = [dict(i) for i in result.impact[:20]]
        patch["blockingSessions"] = [b.to_status() for b in result.blocking_sessions]
        if result.backup is not None:
            patch["backup"] = {
                "path": result.backup.path,
                "sizeBytes": result.backup.size_bytes,
                "verified": result.backup.verified,
            }
        self.patch(**patch)

    # --- 4. scale down ----------------------------------------------------------------------

    @property
    def watched_poll(self) -> float:
        return max(self.settings.poll_seconds, WATCHED_FALLBACK_POLL_SECONDS)

    def targets(self) -> list[workloads.Workload]:
        recorded = self.status.get("originalReplicas")
        if recorded:
            found = [workloads.Workload.from_key(k) for k in recorded]
        else:
            try:
                found = workloads.resolve(self.clients, self.namespace, list(self.spec.workloads))
            except workloads.WorkloadNotFoundError as exc:
                raise Terminal(Reason.WORKLOAD_NOT_FOUND, str(exc)) from None
        self.watched = frozenset((w.kind, w.name) for w in found)
        return found

    def record_revisions(self) -> dict[str, dict[str, Any]]:
        """For each workload whose spec asks for another revision than the current one: the
        current revision and the one it comes back on (with that ReplicaSet's template hash,
        which a rollout undo keeps while it renumbers the revision)."""
        try:
            refs = workloads.resolve_refs(self.clients, self.namespace, list(self.spec.workloads))
        except workloads.WorkloadNotFoundError as exc:
            raise Terminal(Reason.WORKLOAD_NOT_FOUND, str(exc)) from None
        recorded: dict[str, dict[str, Any]] = {}
        for workload, ref in sorted(refs.items()):
            if ref.revision == "current":
                continue
            if workload.kind != "Deployment":
                raise Terminal(
                    Reason.INVALID_SPEC,
                    f"spec.workloads: revision {ref.revision} needs a Deployment, "
                    f"not {workload.kind} {workload.name}",
                )
            current, hashes = workloads.revisions(self.clients, self.namespace, workload.name)
            target = policy.target_revision(ref.revision, current, sorted(hashes))
            if target is None:
                raise Terminal(
                    Reason.INVALID_SPEC,
                    f"spec.workloads: Deployment {workload.name} has no revision "
                    f"{ref.revision} (current {current}, kept: "
                    f"{', '.join(map(str, sorted(hashes))) or 'none'})",
                )
            recorded[workload.key] = {
                "current": current,
                "target": target,
                "podTemplateHash": hashes.get(target, ""),
            }
        return recorded

    def restore_revisions(self) -> None:
        """After the rollback committed: each workload back on its recorded target revision
        before it is scaled up (the application version that ran before the migration)."""
        for key, rev in dict(self.status.get("revisions") or {}).items():
            if int(rev.get("target", 0)) == int(rev.get("current", 0)):
                continue
            workload = workloads.Workload.from_key(key)
            if not workloads.roll_back_template(
                self.clients, self.namespace, workload.name, str(rev.get("podTemplateHash"))
            ):
                raise Terminal(
                    Reason.WORKLOAD_NOT_FOUND,
                    f"Deployment {workload.name}: the ReplicaSet of revision {rev.get('target')} "
                    "is gone (revisionHistoryLimit?)",
                )
            self.event(
                "RevisionRestored",
                f"Deployment {workload.name} back on the template of revision "
                f"{rev.get('target')} (was {rev.get('current')})",
            )

    def scale_down(self) -> Phase:
        targets = self.targets()
        if not self.status.get("originalReplicas"):
            self.step(StepName.RECORD_REPLICAS, StepState.RUNNING)
            original = {
                w.key: workloads.desired_replicas(self.clients, self.namespace, w) for w in targets
            }
            hpas: dict[str, int] = {}
            for w in targets:
                hpas.update(workloads.hpa_min_replicas(self.clients, self.namespace, w))
            revisions = self.record_revisions()
            # Recorded before anything is scaled: a restart must restore these, not the zero.
            self.patch(
                originalReplicas=original,
                hpaMinReplicas=hpas,
                downtimeStartedAt=now_iso(),
                **({"revisions": revisions} if revisions else {}),
            )
            self.step(
                StepName.RECORD_REPLICAS,
                StepState.DONE,
                ", ".join(f"{k}={v}" for k, v in original.items()),
            )
        maint = self.spec.maintenance
        if maint and self.step_state(StepName.MAINTENANCE_ON) != str(StepState.DONE):
            self.step(StepName.MAINTENANCE_ON, StepState.RUNNING)
            self.patch(maintenanceEnabled=True)
            try:
                detail = maintenance.set_maintenance(self.clients, self.namespace, maint, True)
            except maintenance.MaintenanceError as exc:
                self.step(StepName.MAINTENANCE_ON, StepState.FAILED, str(exc))
                raise Terminal(Reason.MAINTENANCE_FAILED, str(exc)) from None
            self.step(StepName.MAINTENANCE_ON, StepState.DONE, detail)
        self.step(
            StepName.SCALE_DOWN, StepState.RUNNING, f"scaling {len(targets)} workload(s) to 0"
        )
        deadline = time.monotonic() + self.spec.scale_down_timeout_seconds
        for w in targets:
            workloads.scale(self.clients, self.namespace, w, 0)
        while True:
            # One read of each workload serves both the hold-down and the pod count.
            observed = {w: workloads.observe(self.clients, self.namespace, w) for w in targets}
            self.hold_down(targets, observed)
            remaining = sum(
                workloads.pods_matching(self.clients, self.namespace, o.match_labels)
                for o in observed.values()
            )
            if remaining == 0:
                break
            if time.monotonic() > deadline:
                message = f"{remaining} pod(s) still running after the scale-down timeout"
                self.step(StepName.SCALE_DOWN, StepState.FAILED, message)
                raise Terminal(Reason.SCALE_TIMEOUT, message)
            self.wait()
        self.step(StepName.SCALE_DOWN, StepState.DONE, "no application pod is running")
        self.set_phase(Phase.ROLLING_BACK, Reason.ROLLING_BACK, "running the rollback Job")
        return Phase.ROLLING_BACK

    def hold_down(
        self,
        targets: list[workloads.Workload],
        observed: dict[workloads.Workload, workloads.Observed] | None = None,
    ) -> None:
        """Something (Argo CD self-heal, a person) scaled a workload back up: hold it down."""
        for w in targets:
            desired = (
                observed[w].desired
                if observed is not None
                else workloads.desired_replicas(self.clients, self.namespace, w)
            )
            if desired > 0:
                workloads.scale(self.clients, self.namespace, w, 0)
                count = int(self.status.get("heldDown", 0)) + 1
                self.patch(heldDown=count)
                HELD_DOWN.inc()
                self.event(
                    "HeldDown",
                    f"{w.kind} {w.name} was scaled up during the rollback window (GitOps "
                    "self-heal or an HPA?); scaled it back to 0",
                    warning=True,
                )

    # --- 5. roll back -----------------------------------------------------------------------

    def roll_back(self) -> Phase:
        targets = self.targets()
        while True:
            request = self.job_request("rollback", dry_run=False)
            self.step(StepName.ROLLBACK, StepState.RUNNING, f"Job {request.name}")
            # Until the Job's result says otherwise, the database may have changed: a Job that
            # vanishes, or an operator that dies now, must never lead to "restore the app".
            if self.status.get("databaseChanged") is not True:
                self.patch(databaseChanged=True)
            verdict = self.run_job(request, while_waiting=lambda: self.hold_down(targets))
            metrics = dict(self.status.get("metrics") or {})
            if verdict.sql_seconds is not None:
                metrics["sqlSeconds"] = verdict.sql_seconds
            if verdict.statements is not None:
                metrics["statements"] = verdict.statements
            changed = verdict.database_changed
            self.patch(metrics=metrics, databaseChanged=changed if changed is not None else True)
            if verdict.succeeded or not self.retry_later("rollback", verdict):
                break
        if not verdict.succeeded:
            self.step(StepName.ROLLBACK, StepState.FAILED, verdict.message)
            raise Terminal(verdict.reason, verdict.message)
        self.step(StepName.ROLLBACK, StepState.DONE, verdict.message)
        self.set_phase(Phase.SCALING_UP, Reason.SCALING_UP, "bringing the application back")
        return Phase.SCALING_UP

    # --- 6. scale up, verify ----------------------------------------------------------------

    def bring_back(self, step: StepName) -> None:
        original: dict[str, int] = dict(self.status.get("originalReplicas") or {})
        self.step(step, StepState.RUNNING, ", ".join(f"{k}={v}" for k, v in original.items()))
        actions = policy.restore_actions(
            self.spec, RollbackStatus.from_obj(self.obj), deleting=False
        )
        self.apply([a for a in actions if isinstance(a, policy.ScaleTo)])
        deadline = time.monotonic() + self.spec.scale_down_timeout_seconds
        while True:
            waiting = [
                key
                for key, replicas in original.items()
                if workloads.ready_replicas(
                    self.clients, self.namespace, workloads.Workload.from_key(key)
                )
                < int(replicas)
            ]
            if not waiting:
                break
            if time.monotonic() > deadline:
                self.step(step, StepState.FAILED, f"not Ready in time: {', '.join(waiting)}")
                raise Terminal(
                    Reason.SCALE_TIMEOUT, f"{', '.join(waiting)} not Ready after scaling up"
                )
            self.wait(self.watched_poll)
        self.record_downtime()
        self.step(step, StepState.DONE, "every workload is back at its recorded replicas and Ready")

    def record_downtime(self) -> None:
        started = parse_timestamp(self.status.get("downtimeStartedAt"))
        if started is None:
            return
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        metrics = dict(self.status.get("metrics") or {})
        metrics["downtimeSeconds"] = round(seconds, 3)
        metrics["downtime"] = human(seconds)
        self.patch(metrics=metrics)

    def scale_up(self) -> Phase:
        self.restore_revisions()
        self.bring_back(StepName.SCALE_UP)
        self.set_phase(Phase.VERIFYING, Reason.VERIFYING, "checking the application's health")
        return Phase.VERIFYING

    def verify(self) -> Phase:
        checks = list(self.spec.health_checks)
        if checks:
            self.step(StepName.HEALTH_CHECK, StepState.RUNNING, f"{len(checks)} check(s)")
            for check in checks:
                verdict, last = self.run_check(check)
                if verdict is not health.Verdict.HEALTHY:
                    message = f"health check {check.name} failed: {last}"
                    self.step(StepName.HEALTH_CHECK, StepState.FAILED, message)
                    raise Terminal(Reason.HEALTH_CHECK_FAILED, message)
            self.step(StepName.HEALTH_CHECK, StepState.DONE, "all checks passed")
        self.maintenance_off()
        self.finish(Phase.SUCCEEDED, Reason.SUCCEEDED, self.success_message())
        return Phase.SUCCEEDED

    def run_check(self, check: health.CheckSpec) -> tuple[health.Verdict, str]:
        tracker = health.Tracker(check)
        while tracker.verdict is health.Verdict.PENDING:
            probe = http_probe(check.url, check.timeout_seconds)
            before = tracker.failures
            tracker.record(probe)
            if tracker.failures > before:
                HEALTH_CHECK_FAILURES.labels(check.name).inc()
            if tracker.verdict is health.Verdict.PENDING:
                self.wait(check.period_seconds)
        return tracker.verdict, tracker.last

    def maintenance_off(self) -> None:
        maint = self.spec.maintenance
        if maint and self.status.get("maintenanceEnabled"):
            self.step(StepName.MAINTENANCE_OFF, StepState.RUNNING)
            try:
                detail = maintenance.set_maintenance(self.clients, self.namespace, maint, False)
            except maintenance.MaintenanceError as exc:
                self.step(StepName.MAINTENANCE_OFF, StepState.FAILED, str(exc))
                raise Terminal(Reason.MAINTENANCE_FAILED, str(exc)) from None
            self.patch(maintenanceEnabled=False)
            self.step(StepName.MAINTENANCE_OFF, StepState.DONE, detail)

    def release_database(self) -> None:
        name = self.status.get("databaseLock")
        if name:
            leases.release(
                self.clients, self.settings.namespace, str(name), f"{self.namespace}/{self.name}"
            )
            self.patch(databaseLock=None)  # released: nothing to renew or release again

    def success_message(self) -> str:
        metrics = self.status.get("metrics") or {}
        parts = ["rolled back"]
        if "statements" in metrics:
            parts.append(f"{metrics['statements']} statements")
        if "downtime" in metrics:
            parts.append(f"downtime {metrics['downtime']}")
        return ", ".join(parts)

    # --- failure paths ----------------------------------------------------------------------

    def fail(self, reason: Reason, message: str) -> None:
        """Record the failure and do what the failure policy (lifecycle.policy) says."""
        status = RollbackStatus.from_obj(self.obj)
        plan = policy.on_failure(
            self.phase,
            app_touched=status.app_touched,
            restore=self.spec.restore_on_failure,
            database_changed=status.database_changed,
            message=message,
            maintenance_on=status.maintenance_enabled,
        )
        if plan.outcome is policy.Outcome.RESTORE_FAILED:
            failure = status.failure
            text = f"{failure.message if failure else 'failed'}; {plan.message}"
            self.event(str(Reason.HELD_FOR_HUMAN), text, warning=True)
            self.finish(Phase.FAILED, failure.reason if failure else Reason.JOB_FAILED, text)
            return
        self.patch(failure={"reason": str(reason), "message": message})
        if plan.outcome is policy.Outcome.RESTORE:
            self.set_phase(Phase.RESTORING, Reason.RESTORING, plan.message)
            return
        if plan.held_for_human:
            self.event(str(Reason.HELD_FOR_HUMAN), plan.message, warning=True)
        self.finish(Phase.FAILED, reason, plan.message)

    def apply(self, actions: list[policy.Action]) -> list[str]:
        """The restore actions (lifecycle.policy.restore_actions), applied idempotently."""
        return apply_actions(self.clients, self.settings, self.obj, actions)

    def restore(self) -> Phase:
        status = RollbackStatus.from_obj(self.obj)
        failure = status.failure
        self.bring_back(StepName.RESTORE)
        self.maintenance_off()
        self.finish(
            Phase.FAILED,
            failure.reason if failure else Reason.JOB_FAILED,
            f"{failure.message if failure else 'failed'}; the application was restored and the "
            "database is unchanged",
        )
        return Phase.FAILED

    def finish(self, phase: Phase, reason: Reason | str, message: str) -> None:
        """Every terminal path ends here, so none can forget the database's Lease: a finished
        rollback (a dry run, a failure left for a human) never makes the next one wait. It goes
        before the phase, so whoever sees Succeeded or Failed finds the database free."""
        self.release_database()
        started = parse_timestamp(self.status.get("startedAt"))
        metrics = dict(self.status.get("metrics") or {})
        if started is not None:
            metrics["durationSeconds"] = round(
                (dt.datetime.now(dt.UTC) - started).total_seconds(), 3
            )
        self.set_phase(phase, reason, message, finishedAt=now_iso(), metrics=metrics)
        outcome = OUTCOME_SUCCEEDED if phase is Phase.SUCCEEDED else OUTCOME_FAILED
        if reason == Reason.DRY_RUN_SUCCEEDED:
            outcome = OUTCOME_DRY_RUN
        RUNS.labels(outcome).inc()
        if "durationSeconds" in metrics:
            DURATION.observe(metrics["durationSeconds"])
        if "downtimeSeconds" in metrics:
            DOWNTIME.observe(metrics["downtimeSeconds"])
        self.event(str(reason), message, warning=phase is Phase.FAILED)


def apply_actions(
    clients: Clients, settings: Settings, obj: dict[str, Any], actions: list[policy.Action]
) -> list[str]:
    """Apply restore actions; each is a no-op when already in effect. Returns what was done."""
    meta = obj["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    spec = RollbackSpec.from_obj(obj)
    done: list[str] = []
    for action in actions:
        if isinstance(action, policy.ScaleTo):
            workload = workloads.Workload.from_key(action.workload)
            if workloads.desired_replicas(clients, namespace, workload) != action.replicas:
                workloads.scale(clients, namespace, workload, action.replicas)
                done.append(f"{action.workload}={action.replicas}")
        elif isinstance(action, policy.MaintenanceOff):
            if spec.maintenance is not None:
                maintenance.set_maintenance(clients, namespace, spec.maintenance, False)
                done.append("maintenance off")
        elif isinstance(action, policy.DeleteJob):
            jobs.delete_job(clients, namespace, action.name)
            done.append(f"deleted Job {action.name}")
        else:
            leases.release(clients, settings.namespace, action.name, f"{namespace}/{name}")
    return done


def restore_on_delete(clients: Clients, settings: Settings, obj: dict[str, Any]) -> str:
    """Deleting a resource mid-flow: bring the app back and let go of everything it holds
    (the same restore actions the Restoring phase applies, plus the Job and the Lease)."""
    actions = policy.restore_actions(
        RollbackSpec.from_obj(obj), RollbackStatus.from_obj(obj), deleting=True
    )
    return "; ".join(apply_actions(clients, settings, obj, actions)) or "nothing to restore"
