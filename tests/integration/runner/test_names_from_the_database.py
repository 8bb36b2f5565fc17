"""Names read from the database are printed escaped: `captures list` and `apply`'s summary.

A table can be named anything a quoted identifier holds: a newline, ESC, a BiDi override.
Printed raw, such a name forges a line of output, clears the terminal or shows reversed text;
`migration_rollback.shown` escapes it wherever the command line prints what the database named.
"""

from __future__ import annotations

import pytest
from capture_support import apply, cli
from runner_support import Project

pytestmark = pytest.mark.integration

TABLE = "odd\nname\x1b[2J\u202e"
RAW = ("\x1b", "\u202e")


def test_a_captured_table_with_control_characters_is_listed_escaped(project: Project) -> None:
    quoted = '"' + TABLE.replace('"', '""') + '"'
    project.sql(f"CREATE TABLE public.{quoted} (id int PRIMARY KEY, v text)")
    project.sql(f"INSERT INTO public.{quoted} VALUES (1, 'a')")
    (project.migrations / "20251201000000_odd.sql").write_text(
        f"DELETE FROM public.{quoted} WHERE id = 1;\n"
    )

    code, _, said = apply(project)
    listed = cli(project, "captures", "list")

    assert code == 0, said
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for output in (said, listed.stdout):
        for char in RAW:
            assert char not in output, repr(output)
    assert "odd\\nname\\x1b[2J\\u202e" in listed.stdout
    assert not any(line.startswith("name") for line in listed.stdout.splitlines())


def test_an_archived_table_with_control_characters_is_summarised_escaped(
    project: Project,
) -> None:
    quoted = '"' + TABLE.replace('"', '""') + '"'
    name = "20251201000000_odd"
    project.add(name, f"CREATE TABLE public.{quoted} (id int);", f"DROP TABLE public.{quoted};\n")

    run = project.execute(name, "--allow-data-loss")

    assert run.returncode == 0, run.stdout + run.stderr
    for char in RAW:
        assert char not in run.stdout, repr(run.stdout)
    assert not any(line.startswith("name") for line in run.stdout.splitlines()), run.stdout
