"""File names chosen by whoever wrote the migration end up in commands, Markdown and YAML.

A person pastes the commands from `<migration>_rollback.md` and the emergency plan during an
incident: a name like `$(touch pwned)` must not run anything, `#` must not comment out the flags
after it, backticks must not close the code block, and manifests must be valid YAML naming
valid Kubernetes objects (or say why there is none).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.project.manifests import (
    DNS1123_LABEL,
    MIGRATION_MAX_LENGTH,
    MIGRATION_PATTERN,
    resource_name,
)
from migration_rollback.project.markdown import code, fenced

REPO = Path(__file__).resolve().parents[2]
HOSTILE = [
    "20250101000000_$(touch pwned)",
    "20250101000001_`touch pwned`",
    "20250101000002_x;touch pwned",
    "20250101000003_a#b",
    "20250101000004_x'y\"z",
    "20250101000005_```bash",
    "20250101000006_x | touch pwned &",
    "20250101000007_ spaces and * glob",
]
SAFE = "20250101000010_plain_name"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    for number, name in enumerate([*HOSTILE, SAFE]):
        (migrations / f"{name}.sql").write_text(f"create table public.t{number} (id int);\n")
    monkeypatch.chdir(tmp_path)
    return migrations


def fenced_blocks(markdown: str, language: str) -> list[str]:
    """The bodies of ```language blocks, honouring longer fences as CommonMark does."""
    blocks = []
    for match in re.finditer(rf"^(`{{3,}}){language}\n(.*?)^\1$", markdown, re.M | re.S):
        blocks.append(match.group(2))
    return blocks


def command_lines(markdown: str) -> list[str]:
    lines = []
    for block in fenced_blocks(markdown, "bash"):
        lines += [line for line in block.splitlines() if line.startswith("migration-rollback ")]
    return lines


def run_pasted(lines: list[str], workdir: Path) -> list[list[str]]:
    """Run the lines with bash, `migration-rollback` being a printf: the argv it would get."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "migration-rollback"
    fake.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\nprintf '\\n'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    script = "\n".join(lines) + "\n"
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    out = subprocess.run(
        ["bash"], input=script, text=True, check=True, capture_output=True, cwd=workdir, env=env
    ).stdout
    return [line.split("\0")[:-1] for line in out.splitlines()]


def test_rollback_doc_commands_run_nothing_and_keep_their_flags(hostile: Path) -> None:
    code_, out = run("generate")
    assert code_ == 0, out
    for name in [*HOSTILE, SAFE]:
        doc = (hostile / f"{name}_rollback.md").read_text()
        lines = command_lines(doc)
        assert len(lines) == 2, (name, doc)
        argv = run_pasted(lines, hostile.parent)
        assert argv[0] == ["execute", name, "--dry-run"]
        assert argv[1][:2] == ["execute", name]
        assert "--backup-dir" in argv[1]  # `#` did not comment it out
        assert [shlex.split(line)[2] for line in lines] == [name, name]
    assert not list(hostile.parent.rglob("pwned"))


def test_emergency_plan_commands_run_nothing(hostile: Path) -> None:
    run("generate")
    code_, out = run("emergency", "--latest", "20")
    assert code_ == 0, out
    plan = (hostile.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    lines = command_lines(plan)
    assert len(lines) == 2 * (len(HOSTILE) + 1)
    argvs = run_pasted(lines, hostile.parent)
    names = {argv[1] for argv in argvs}
    assert names == {*HOSTILE, SAFE}
    for argv in argvs:
        if "--backup" in argv:
            assert argv[-2:] == ["--report", "incident.md"]
            assert len(argv[argv.index("--expect-sha256") + 1]) == 64
    assert not list(hostile.parent.parent.rglob("pwned"))


def test_manifests_are_valid_yaml_or_explained(hostile: Path) -> None:
    run("generate")
    run("emergency", "--latest", "20")
    plan = (hostile.parent.parent / "scripts" / "EMERGENCY_ROLLBACK_PLAN.md").read_text()
    manifests = [yaml.safe_load(block) for block in fenced_blocks(plan, "yaml")]
    assert [m["spec"]["migration"] for m in manifests] == [SAFE]
    manifest = manifests[0]
    assert DNS1123_LABEL.fullmatch(manifest["metadata"]["name"])
    assert manifest["spec"]["rollback"]["configMapRef"]["key"] == f"{SAFE}_rollback.sql"
    assert plan.count("No MigrationRollback manifest for this migration") == len(HOSTILE)
    doc = (hostile / f"{HOSTILE[0]}_rollback.md").read_text()
    assert not fenced_blocks(doc, "yaml")
    assert "rename the file" in doc


def test_backticks_in_a_name_do_not_break_the_markdown(hostile: Path) -> None:
    run("generate")
    name = "20250101000005_```bash"
    doc = (hostile / f"{name}_rollback.md").read_text()
    heading = doc.splitlines()[0]
    assert heading == f"# Rollback: {code(name)}"
    assert heading.startswith("# Rollback: ````20250101000005_```bash````")
    # Every fence opened is closed by the same fence: the command block survived intact.
    assert len(command_lines(doc)) == 2


def test_markdown_helpers_quote_any_backtick_run() -> None:
    assert code("a") == "`a`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    block = fenced("bash", ["echo ```", "echo ````"])
    assert block[0] == "`````bash"
    assert block[-1] == "`````"


def test_the_migration_pattern_is_the_crds() -> None:
    crd = yaml.safe_load(next((REPO / "crds").glob("*.yaml")).read_text(encoding="utf-8"))
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    migration = spec["properties"]["migration"]
    assert migration["pattern"] == MIGRATION_PATTERN.pattern
    assert migration["maxLength"] == MIGRATION_MAX_LENGTH


@given(st.text(min_size=1, max_size=300))
def test_resource_names_are_always_dns1123_labels(title: str) -> None:
    name = resource_name(f"20250101000000_{title}")
    assert DNS1123_LABEL.fullmatch(name), name


def test_resource_names_do_not_collide_when_cut_or_changed() -> None:
    long_a = "20250101000000_" + "a" * 80 + "_one"
    long_b = "20250101000000_" + "a" * 80 + "_two"
    assert resource_name(long_a) != resource_name(long_b)
    assert resource_name("1_a.b") != resource_name("1_a-b")
    assert resource_name("20251113000001_timeline_social") == "undo-20251113000001-timeline-social"
