"""A target version or a migration file that cannot mean what it says is refused before
anything runs (exit 3), naming it: `--to` with a version that is not applied rolled back (or,
for `apply`, applied) everything past it, and a migration file that is not UTF-8 ended
`apply` as an internal error without a file name."""

from __future__ import annotations

import pytest
from capture_support import apply, write
from runner_support import Project, schema_fingerprint, timeline_project

pytestmark = pytest.mark.integration

PRECONDITION_FAILED = 3


@pytest.mark.parametrize("target", ["2025", "20251105000000"])
def test_execute_to_a_version_that_is_not_applied_changes_nothing(
    project: Project, target: str
) -> None:
    timeline_project(project)
    before = schema_fingerprint(project.url)

    run = project.execute("--to", target)

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert run.result is not None
    assert f"--to {target} is not an applied version" in run.result["error"]["message"]
    assert schema_fingerprint(project.url) == before
    assert project.versions() == ["20251101000000", "20251113000001"]


def test_execute_to_a_version_with_a_file_but_no_history_row_rolls_back_past_it(
    project: Project,
) -> None:
    # Applied 1, 2, 4; 3 was undone alone earlier (or never recorded) but has its file: the
    # target is a migration's version, as it is for apply, and only 4 is newer.
    for version, applied in (("1", True), ("2", True), ("3", False), ("4", True)):
        name = f"2025010100000{version}_t{version}"
        project.add(
            name,
            f"CREATE TABLE public.t{version} (id int);\n",
            f"DROP TABLE public.t{version};\n",
            apply=applied,
        )

    run = project.execute("--to", "20250101000003")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.versions() == ["20250101000001", "20250101000002"]
    assert project.value("SELECT to_regclass('public.t4')") is None
    assert project.value("SELECT to_regclass('public.t2')::text") == "t2"


def test_apply_to_a_version_no_file_has_applies_nothing(project: Project) -> None:
    write(project, "20250101000001_one", "CREATE TABLE public.one (id int);\n")
    write(project, "20250101000002_two", "CREATE TABLE public.two (id int);\n")

    code, result, printed = apply(project, "--to", "2025")

    assert code == PRECONDITION_FAILED, printed
    assert "--to 2025: no migration in the folder has this version" in printed
    assert "--to 2025" in result["error"]
    assert project.versions() == []


@pytest.mark.parametrize("zero", ["0", "00"])
def test_apply_to_0_is_the_state_before_the_first_migration_and_applies_none(
    project: Project, zero: str
) -> None:
    # execute --to 0 rolls back every migration; apply --to 0 was refused (exit 3) instead of
    # meaning the same point in the history.
    write(project, "20250101000001_one", "CREATE TABLE public.one (id int);\n")

    code, result, printed = apply(project, "--to", zero)

    assert code == 0, printed
    assert result["pending"] == []
    assert project.versions() == []
    assert project.value("SELECT to_regclass('public.one')") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"CREATE TABLE public.latin (id int);\n-- caf\xe9\n",
            "20250101000002_bad.sql:2: not UTF-8",
        ),
        ("CREATE TABLE public.wide (id int);\n".encode("utf-16"), "UTF-16 text"),
        (b"CREATE TABLE public.nul (id int);\n\x00\n", "20250101000002_bad.sql:2: NUL byte"),
    ],
    ids=["latin-1", "utf-16", "nul"],
)
def test_apply_refuses_a_file_that_is_not_utf8_naming_file_and_line(
    project: Project, data: bytes, message: str
) -> None:
    write(project, "20250101000001_good", "CREATE TABLE public.good (id int);\n")
    (project.migrations / "20250101000002_bad.sql").write_bytes(data)

    code, _, printed = apply(project)

    assert code == PRECONDITION_FAILED, printed
    assert message in printed
    assert "internal error" not in printed
    assert "UnicodeDecodeError" not in printed
    assert project.versions() == []  # refused before the first file ran


@pytest.mark.parametrize("given", ["name", "version-and-file"])
def test_a_rollback_whose_source_line_names_another_migration_is_refused(
    project: Project, given: str
) -> None:
    # Copied from the base migration's rollback with only its ROLLBACK line changed: its
    # Source-SHA256 pinned the base file, which still matched, so it ran unchecked (and still
    # did for a bare version with --rollback-file).
    timeline_project(project)
    base = (project.migrations / "20251101000000_base_rollback.sql").read_text()
    own = project.migrations / "20251113000001_timeline_social_features_rollback.sql"
    own.write_text(
        base.replace("-- ROLLBACK: 20251101000000_base", "-- ROLLBACK: " + own.stem[:-9])
    )
    before = schema_fingerprint(project.url)

    args = [own.stem[:-9]] if given == "name" else ["20251113000001", "--rollback-file", str(own)]
    run = project.execute(*args, "--dry-run")

    assert run.returncode == PRECONDITION_FAILED, run.stdout + run.stderr
    assert run.result is not None
    assert (
        "generated from 20251101000000_base.sql (its Source line)" in run.result["error"]["message"]
    )
    assert schema_fingerprint(project.url) == before
