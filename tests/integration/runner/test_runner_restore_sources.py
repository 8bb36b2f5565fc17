"""`execute` restoring from captures reads its sources once, and as the project reads them.

The restore steps are placed by the `-- undoes` groups of the rollback and answer the MANUAL
markers of the forward statements they restore. Both must come from what was checked: the
rollback's bytes that were hashed and parsed (a second read of the path may see another file),
and the forward migration decoded as `validate` and `apply` decode it (a legacy Windows-1252
comment made execute stop with an internal UnicodeDecodeError, exit 1).
"""

from __future__ import annotations

import pytest
from capture_support import apply, generate, rows
from runner_support import Project

from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.restore_captures import groups_of
from migration_rollback.runner.rollback_file import parse_rollback

pytestmark = pytest.mark.integration

BASE = "20250101000001_users"
TWEAK = "20250102000001_tweak"


def _tweaked(project: Project, forward: bytes) -> Project:
    (project.migrations / f"{BASE}.sql").write_text(
        "CREATE TABLE public.users (id bigint PRIMARY KEY, email text);\n"
        "INSERT INTO public.users VALUES (1, 'A@X'), (2, 'B@X');\n"
    )
    (project.migrations / f"{TWEAK}.sql").write_bytes(forward)
    generate(project)
    code, _doc, out = apply(project)
    assert code == 0, out
    return project


def test_a_forward_migration_edited_into_a_legacy_encoding_is_read_as_validate_reads_it(
    project: Project,
) -> None:
    """A comment in Windows-1252 added after `apply` (apply refuses such a file), the rollback
    regenerated from it (generate warns, and reads it)."""
    _tweaked(project, b"UPDATE public.users SET email = lower(email);\n")
    with (project.migrations / f"{TWEAK}.sql").open("ab") as forward:
        forward.write(b"-- caf\xe9: lower-cased for the new login\n")
    generate(project)

    run = project.execute(TWEAK)

    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.users") == [(1, "A@X"), (2, "B@X")]


def test_the_groups_are_those_of_the_bytes_that_were_checked(project: Project) -> None:
    _tweaked(project, b"UPDATE public.users SET email = lower(email);\n")
    path = project.migrations / f"{TWEAK}_rollback.sql"
    source = parse_rollback(MigrationId.parse(TWEAK), str(path), path.read_bytes())
    checked = groups_of(source)
    assert checked, "the generated rollback has an -- undoes group"

    path.write_text("SELECT 1;\n")  # edited after the check

    assert groups_of(source) == checked
