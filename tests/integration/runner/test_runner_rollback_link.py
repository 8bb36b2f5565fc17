"""`execute` reads the rollback file `validate` judged: a link out of the folder is refused.

`validate` (and `emergency`) refuse a `<migration>_rollback.sql` that is a symbolic link leading
out of the migrations folder: what it runs would be whatever the link names, a file nobody
reviewed with the project. `execute` must refuse the same file (exit 3, nothing changed), or a
rollback would run that the verifier never saw. A link that stays inside the folder (as the
operator's ConfigMap volume is made of) is still read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import Project, schema_fingerprint

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3
NAME = "20251201000000_flags"


@pytest.fixture
def flags(project: Project) -> Project:
    project.add(NAME, "CREATE TABLE public.flags (id int);", "DROP TABLE public.flags;\n")
    return project


def relink(project: Project, target: Path) -> Path:
    """Move the rollback to `target` and leave a symbolic link to it in its place."""
    link = project.migrations / f"{NAME}_rollback.sql"
    target.parent.mkdir(parents=True, exist_ok=True)
    link.rename(target)
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("args", [[NAME], ["--to", "0"]], ids=["by-name", "with-to"])
def test_a_rollback_linked_out_of_the_folder_is_refused(
    flags: Project, tmp_path_factory: pytest.TempPathFactory, args: list[str]
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "flags_rollback.sql"
    link = relink(flags, outside)
    before = schema_fingerprint(flags.url)

    run = flags.execute(*args, "--allow-data-loss")

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(flags.url) == before
    assert NAME[:14] in flags.versions()
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "outside the migrations folder" in message
    assert link.name in message


def test_a_rollback_linked_inside_the_folder_is_read(flags: Project) -> None:
    relink(flags, flags.migrations / "..data" / f"{NAME}_rollback.sql")

    run = flags.execute(NAME, "--dry-run", "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr


def test_a_forward_migration_linked_out_of_the_folder_is_refused(
    flags: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The forward file is read by the same rule (it was followed by a plain read_bytes): its
    checksum, and the statements that answer MANUAL markers, would come from outside."""
    forward = flags.migrations / f"{NAME}.sql"
    outside = tmp_path_factory.mktemp("elsewhere") / f"{NAME}.sql"
    outside.write_bytes(forward.read_bytes())  # the very bytes: the checksum would pass
    forward.unlink()
    forward.symlink_to(outside)
    before = schema_fingerprint(flags.url)

    run = flags.execute(NAME, "--allow-data-loss")

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert schema_fingerprint(flags.url) == before
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "outside the migrations folder" in message
    assert forward.name in message


def test_a_forward_migration_linked_inside_the_folder_is_read(flags: Project) -> None:
    forward = flags.migrations / f"{NAME}.sql"
    inside = flags.migrations / "..data" / forward.name
    inside.parent.mkdir()
    forward.rename(inside)
    forward.symlink_to(inside)

    run = flags.execute(NAME, "--dry-run", "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
