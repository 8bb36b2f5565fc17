"""`spec.targetVersion`: the set of rollbacks it runs, its digest and its status (pure).

The set comes from the project's migrations directory kept in a ConfigMap
(`spec.rollback.migrationsFrom`, `kubectl create configmap --from-file=supabase/migrations/`):
every migration newer than the target, newest first, each with its `<migration>_rollback.sql`.
It is approved and pinned as one (`jobresult.set_sha256`); the Job runs the runner's `--to` with
that digest, so a database whose applied migrations differ from the set is refused before
anything runs. Each member's fate comes back in the Job's result and lands in
`status.migrations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.jobresult import MigrationState, SetMember, set_sha256, version_key
from migration_rollback.lifecycle.analysis import sha256_text, summarize
from migration_rollback.lifecycle.approval import PlanSummary
from migration_rollback.lifecycle.phases import Reason

ROLLBACK_SUFFIX = "_rollback.sql"
FIELD = "spec.rollback.migrationsFrom"
# A migration file as Supabase names it: <version>_<description>.sql
_FILE = re.compile(r"(?P<version>[0-9]+)_[A-Za-z0-9_.-]+\.sql")


class TargetError(Exception):
    """The ConfigMap does not fit `spec.targetVersion`: no retry fixes it."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class SetRollback:
    """One member of the set: which migration, its rollback's file name and text."""

    member: SetMember
    key: str
    sql: str


@dataclass(frozen=True, slots=True)
class RollbackSet:
    target: str
    rollbacks: tuple[SetRollback, ...]  # newest first, the order they run in

    @property
    def sha256(self) -> str:
        return set_sha256([r.member for r in self.rollbacks])

    @property
    def files(self) -> dict[str, str]:
        """What the Job mounts: rollback file name -> SQL."""
        return {r.key: r.sql for r in self.rollbacks}

    def status_entries(self) -> list[dict[str, str]]:
        """`status.migrations` before any Job ran: every member Pending."""
        return [
            {
                "version": r.member.version,
                "name": r.member.name,
                "sha256": r.member.sha256,
                "state": str(MigrationState.PENDING),
            }
            for r in self.rollbacks
        ]


def _index(data: Mapping[str, str], config_map: str) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """The versions the project knows (forward or rollback files) and version -> (key, SQL) of
    its rollbacks; keys that are no migration file (a README) are ignored."""
    known: set[str] = set()
    rollbacks: dict[str, tuple[str, str]] = {}
    for key in sorted(data):
        match = _FILE.fullmatch(key)
        if match is None:
            continue
        version = match["version"]
        known.add(version)
        # `<v>_x_rollback.sql` is a forward migration when `<v>_x_rollback_rollback.sql` is there.
        if not key.endswith(ROLLBACK_SUFFIX) or key.removesuffix(".sql") + ROLLBACK_SUFFIX in data:
            continue
        if version in rollbacks:
            raise TargetError(
                Reason.INVALID_SPEC,
                f"{FIELD}: ConfigMap {config_map} has several rollbacks for version "
                f"{version}: {rollbacks[version][0]}, {key}",
            )
        rollbacks[version] = (key, data[key])
    return known, rollbacks


def resolve(data: Mapping[str, str], target: str, config_map: str) -> RollbackSet:
    """Every migration of the project newer than `target`, newest first, with its rollback;
    TargetError when the target is not one of the project's migrations, nothing is newer, or a
    newer migration has no rollback file."""
    known, rollbacks = _index(data, config_map)
    if target not in known:
        versions = sorted(known, key=version_key)
        shown = ", ".join(versions[-5:]) or "none"
        raise TargetError(
            Reason.UNKNOWN_TARGET_VERSION,
            f"spec.targetVersion {target} is not a migration in ConfigMap {config_map} "
            f"({FIELD}); its latest versions: {shown}",
        )
    newer = sorted((v for v in known if version_key(v) > version_key(target)), key=version_key)
    if not newer:
        raise TargetError(
            Reason.NOTHING_TO_ROLL_BACK,
            f"spec.targetVersion {target} is the newest migration in ConfigMap {config_map}: "
            "nothing is newer, nothing to roll back",
        )
    missing = [v for v in newer if v not in rollbacks]
    if missing:
        raise TargetError(
            Reason.ROLLBACK_MISSING,
            f"{FIELD}: ConfigMap {config_map} has no <version>_<name>{ROLLBACK_SUFFIX} for "
            f"{', '.join(missing)} (newer than {target}): generate and review them, then add them",
        )
    return RollbackSet(target, tuple(_member(*rollbacks[v], v) for v in reversed(newer)))


@dataclass(frozen=True, slots=True)
class Checked:
    """A set that passed validation, with the plan it is approved over."""

    chosen: RollbackSet
    summary: PlanSummary

    @property
    def message(self) -> str:
        """The Validate step's message."""
        names, s = ", ".join(r.member.name for r in self.chosen.rollbacks), self.summary
        return (
            f"{len(self.chosen.rollbacks)} migration(s) newer than {self.chosen.target}, "
            f"newest first: {names}; {s.statements} statements, {s.manual_items} manual, "
            f"{'destroys data' if s.destroys_data else 'no data loss'}, lock {s.strongest_lock}"
        )


def check(data: Mapping[str, str], target: str, config_map: str, pinned: str | None) -> Checked:
    """The set `target` selects from the migrations ConfigMap's `data`, parsed, summarised and
    held to `spec.rollback.sha256` when that pins it; TargetError says why not."""
    chosen = resolve(data, target, config_map)
    try:
        summary = summarize([(r.sql, r.key) for r in chosen.rollbacks])
    except SqlSyntaxError as exc:
        raise TargetError(Reason.INVALID_SQL, f"rollback SQL does not parse: {exc}") from None
    if pinned and pinned != chosen.sha256:
        names = ", ".join(r.member.name for r in chosen.rollbacks)
        raise TargetError(
            Reason.SHA256_MISMATCH,
            f"spec.rollback.sha256 is {pinned} but the set ({names}) hashes to {chosen.sha256}",
        )
    return Checked(chosen, summary)


def _member(key: str, sql: str, version: str) -> SetRollback:
    name = key.removesuffix(ROLLBACK_SUFFIX)
    return SetRollback(SetMember(version, name, sha256_text(sql)), key, sql)


def with_states(
    entries: Sequence[Mapping[str, object]], states: Mapping[str, MigrationState]
) -> list[dict[str, object]]:
    """`status.migrations` with each member's state from a Job's result; members the result
    does not mention keep theirs."""
    return [
        {**entry, "state": str(states.get(str(entry.get("version")), entry.get("state")))}
        for entry in entries
    ]
