"""Which rollback files a run reads, and the checks they pass before anything is planned.

A single migration names its file (or `--rollback-file` does); `--to` finds one file per
applied version in the migrations folder, refusing a version that matches none or several. Each
file is read as a regular file, parsed, checked against its pinned digest and the forward
migration's checksum; with `--expect-set-sha256` the whole set must be the reviewed one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from migration_rollback.errors import SourceFileError
from migration_rollback.jobresult import SetMember, set_sha256
from migration_rollback.project.migrations import (
    SourceText,
    read_in_folder,
    read_regular_file,
    read_source,
)
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId, RunOptions
from migration_rollback.runner.rollback_file import (
    RollbackSource,
    check_source_checksum,
    parse_rollback,
)

ROLLBACK_SUFFIX = "_rollback.sql"


def load_rollback(options: RunOptions, version: str) -> RollbackSource:
    """The parsed, checked rollback of one applied version."""
    migration, path = _rollback_path(options, version)
    data = _read_rollback(options, migration, path)
    source = parse_rollback(migration, str(path), data, expect_sha256=options.expect_sha256)
    forward = forward_path(options, source)
    if source.header.get("Source-SHA256") and not _generated_from(migration, forward.name):
        # Its Source-SHA256 pins another migration's file: checking that one proves nothing.
        raise PreconditionError(
            f"{path}: generated from {forward.name} (its Source line), not from migration "
            f"{migration.name}"
        )
    source = replace(source, forward=_read_forward(forward))
    check_source_checksum(source)
    return source


def _read_rollback(options: RunOptions, migration: MigrationId, path: Path) -> bytes:
    """The folder's rollback file by the rule `validate` judged it with (a link out of the
    folder, or a broken one, names a file nobody reviewed with the project), read once; a
    path given with --rollback-file is the caller's own choice, read as named."""
    try:
        if options.rollback_file is None:
            return read_in_folder(path)
        return read_regular_file(path)  # a named pipe would block forever
    except SourceFileError as exc:
        why = exc.message
    except OSError as exc:
        why = str(exc.strerror)
    raise PreconditionError(f"cannot read the rollback for {migration.name}: {path}: {why}")


def _read_forward(path: Path) -> SourceText | None:
    """The forward migration, read once by the folder's rule; None when it is not there (the
    operator's Job has the rollbacks only). A link out of the folder is refused as `validate`
    refuses it: its statements would answer the rollback's MANUAL markers."""
    if not os.path.lexists(path):
        return None
    try:
        return read_source(path)
    except SourceFileError as exc:
        raise PreconditionError(f"cannot use the forward migration {path}: {exc.message}") from None


def forward_path(options: RunOptions, source: RollbackSource) -> Path:
    """The forward migration the rollback was generated from, in the migrations folder."""
    name = Path(source.header.get("Source") or f"{source.migration.name}.sql").name
    return options.migrations_dir / name


def unchecked_source(options: RunOptions, source: RollbackSource) -> Path | None:
    """The forward migration a pinned Source-SHA256 could not be checked against: not in the
    folder. By design in the operator's Job (its ConfigMap holds the rollbacks only); from the
    command line, a migration deleted or renamed since, or the wrong --dir."""
    pinned = source.header.get("Source-SHA256")
    return forward_path(options, source) if pinned and source.forward is None else None


def _generated_from(migration: MigrationId, forward_name: str) -> bool:
    """The Source line names this migration: the same file, or (for a migration given as a
    bare version, with --rollback-file) a file of the same version."""
    try:
        return migration.same_as(MigrationId.parse(forward_name))
    except PreconditionError:  # no version at all: not this migration's file
        return False


def _rollback_path(options: RunOptions, version: str) -> tuple[MigrationId, Path]:
    single = options.migration
    if single is not None and (options.rollback_file or not single.version_only):
        path = options.rollback_file or options.migrations_dir / (single.name + ROLLBACK_SUFFIX)
        return single, path
    path = find_rollback_file(options.migrations_dir, version)
    return MigrationId.of_rollback_file(path.name), path


def check_set(options: RunOptions, sources: list[RollbackSource]) -> None:
    """With --expect-set-sha256: the rollbacks about to run are exactly the reviewed set
    (a migration applied or rolled back since, or a file changed, changes the digest)."""
    pinned = options.expect_set_sha256
    if pinned is None:
        return
    members = [SetMember(s.migration.version, s.migration.name, s.sha256) for s in sources]
    digest = set_sha256(members)
    if digest != pinned:
        raise PreconditionError(
            f"the applied migrations newer than {options.to_version} are "
            f"{', '.join(m.name for m in members)}; their rollbacks hash to {digest}, but "
            f"--expect-set-sha256 pins {pinned}: the set changed since it was reviewed"
        )


def has_migration_file(directory: Path, version: str) -> bool:
    """A forward migration file of this version is in the folder (a --to target may be one
    whose migration is no longer applied)."""
    if not (version.isascii() and version.isdigit()):  # no migration file is named so
        return False
    return any(
        not path.name.endswith(ROLLBACK_SUFFIX) for path in directory.glob(f"{version}_*.sql")
    )


def find_rollback_file(directory: Path, version: str) -> Path:
    candidates = {p.name: p for p in directory.glob(f"{version}_*{ROLLBACK_SUFFIX}")}
    # `<v>_undo_rollback.sql` may be a forward migration whose own rollback is also listed.
    matches = sorted(
        path
        for name, path in candidates.items()
        if name.removesuffix(".sql") + ROLLBACK_SUFFIX not in candidates
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise PreconditionError(
            f"no rollback file for applied migration {version} in {directory} "
            f"(expected {version}_<name>{ROLLBACK_SUFFIX}); generate it first"
        )
    raise PreconditionError(
        f"several rollback files for migration {version}: {', '.join(m.name for m in matches)}; "
        "the version is ambiguous: name the migration file (<version>_<name>) to roll back"
    )
