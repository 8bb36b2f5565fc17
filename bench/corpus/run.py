"""Run migration-rollback over the real-world corpus and check its verdicts independently.

For each project of the built corpus (see rebuild.py): copy it to a temporary folder, run
`migration-rollback generate --verify`, then `migration-rollback validate --verify --format json`
(subprocesses, one timeout per project), and count the verdicts. Then, without the project's
verifier, replay on a private PostgreSQL of the project's major (as the tool chooses it: its
config.toml `[db] major_version`; binaries and a new-enough pg_dump from binaries.py) loaded
with the Supabase baseline: for every migration the tool called `verified`, `pg_dump
--schema-only` before it,
apply the forward migration and the generated rollback (psql), dump again, and compare the two
dumps as multisets of normalised entries. A difference is a *false verified*.

Projects with hand-written down migrations (golang-migrate/diesel pairs) also get their own down
migration put through the same round trip, for a 2x2 table: ours verified x theirs verified.

    .venv/bin/python bench/corpus/run.py --jobs 1 --json /tmp/corpus.json
    .venv/bin/python bench/corpus/run.py --project capgo --limit 3

A crash of the tool (non-zero exit with a traceback, unparsable JSON) or a timeout is recorded
and the run goes on. Verdicts are read from the JSON defensively: unknown statuses are counted
under their own names.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_CORPUS = Path(
    os.environ.get("MIGRATION_ROLLBACK_CORPUS", "~/.cache/migration-rollback/corpus")
).expanduser()
ENTRY_FILE = "corpus-entry.json"
KNOWN = ("verified", "manual", "mismatch", "rollback_failed", "forward_failed", "skipped")
NOT_REPLAYED = frozenset({"skipped", "none"})
PSQL_TIMEOUT = 600.0


def tool_command() -> list[str]:
    """The CLI of this checkout's virtualenv (the interpreter running this script)."""
    beside = Path(sys.executable).parent / "migration-rollback"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("migration-rollback")
    if found:
        return [found]
    return [sys.executable, "-m", "migration_rollback"]


# --- running the tool ---------------------------------------------------------------------------


@dataclass
class Invocation:
    command: str
    returncode: int | None  # None: timed out
    seconds: float
    stdout: str
    stderr: str

    @property
    def crashed(self) -> bool:
        """A traceback, or the CLI's own report of an internal error."""
        text = self.stderr + self.stdout
        return "Traceback (most recent call last)" in text or "internal error" in text


def invoke(args: list[str], cwd: Path, timeout: float) -> Invocation:
    """Run the CLI in its own process group; on timeout interrupt it (so that it removes its
    temporary cluster), then kill it."""
    started = time.monotonic()
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200", MIGRATION_ROLLBACK_TRACEBACK="1")
    proc = subprocess.Popen(
        [*tool_command(), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=max(timeout, 1.0))
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        code = None
    return Invocation(" ".join(args), code, time.monotonic() - started, out, err)


def parse_json(text: str) -> dict[str, Any] | None:
    """The JSON document in the output (tolerates lines printed before it)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^\{", text, re.MULTILINE):
        with contextlib.suppress(ValueError):
            doc, _end = decoder.raw_decode(text[match.start() :])
            if isinstance(doc, dict):
                return doc
    return None


def proof_of(migration: dict[str, Any]) -> dict[str, Any] | None:
    """The shadow verdict of one migration, wherever the JSON keeps it."""
    for key in ("verification", "verify", "proof", "shadow", "roundtrip"):
        value = migration.get(key)
        if isinstance(value, dict):
            return value
    return None


def status_of(migration: dict[str, Any]) -> str:
    proof = proof_of(migration)
    if proof is None:
        return "none"
    for key in ("status", "verdict", "result"):
        value = proof.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def migration_name(migration: dict[str, Any]) -> str:
    for key in ("migration", "name", "file"):
        value = migration.get(key)
        if isinstance(value, str) and value:
            return value.removesuffix(".sql")
    return "?"


def cause_of(proof: dict[str, Any] | None) -> str:
    """A short, groupable cause for a failed forward migration."""
    if proof is None:
        return "?"
    message = str(proof.get("message") or proof.get("error") or "").strip()
    first = message.splitlines()[0] if message else "no message"
    first = re.sub(
        r"^(the )?(forward|migration)[^:]*failed[^:]*:\s*", "", first, flags=re.IGNORECASE
    )
    return first[:160]


# Failures that say nothing about the migration: the shadow lacked what Supabase would have.
ENVIRONMENT = frozenset({"missing_extension", "missing_platform_object", "other_major"})


def cause_kind(proof: dict[str, Any] | None) -> str:
    """The verifier's classification of a failed forward (verify/causes.py), "?" without."""
    cause = (proof or {}).get("cause")
    return str(cause.get("kind") or "?") if isinstance(cause, dict) else "?"


def cause_group(cause: str) -> str:
    """The cause with names taken out, to count similar causes together."""
    return re.sub(r'"[^"]*"', '"…"', cause)[:120]


# --- the independent round trip -----------------------------------------------------------------


@dataclass
class Check:
    migration: str
    # same | different | column_order_only | rollback_error | forward_error | inconclusive
    verdict: str
    detail: list[str] = field(default_factory=list)
    # Checked after a forward that failed on this server was replayed in part: its state may
    # differ from the tool's (no stand-ins here).
    after_partial: str | None = None


def normalise_dump(text: str) -> Counter[str]:
    """A pg_dump as a multiset of entries: comments dropped, split on blank lines, whitespace
    collapsed, session preamble (SET, set_config) dropped."""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    entries: Counter[str] = Counter()
    for chunk in re.split(r"\n\s*\n", "\n".join(kept)):
        entry = re.sub(r"\s+", " ", chunk).strip()
        if not entry or entry.startswith(("SET ", "SELECT pg_catalog.set_config(")):
            continue
        if entry.startswith("\\"):  # \restrict / \unrestrict keys of newer pg_dump
            continue
        entries[_acl_order_free(entry)] += 1
    return entries


def _acl_order_free(entry: str) -> str:
    """An entry of only GRANT / REVOKE statements (one object's ACL) with its statements
    sorted: pg_dump prints them in aclitem order, which a revoke and re-grant changes though
    the privileges are the same."""
    parts = [part.strip() for part in entry.rstrip(";").split("; ")]
    if len(parts) < 2 or not all(part.startswith(("GRANT ", "REVOKE ")) for part in parts):
        return entry
    return "; ".join(sorted(parts)) + ";"


_TABLE = re.compile(r"^CREATE (?:UNLOGGED )?TABLE (\S+) \((.*)\);?$")


def _columns(entry: str) -> tuple[str, frozenset[str]] | None:
    m = _TABLE.match(entry)
    if not m:
        return None
    return m.group(1), frozenset(part.strip() for part in m.group(2).split(", "))


def compare(before: Counter[str], after: Counter[str]) -> tuple[str, list[str]]:
    """same, column_order_only (only CREATE TABLE column lists reordered) or different."""
    missing = before - after
    extra = after - before
    if not missing and not extra:
        return "same", []
    order_only = set()
    for gone in missing:
        cols = _columns(gone)
        if cols is None:
            continue
        for new in extra:
            if _columns(new) == cols:
                order_only.add(gone)
                order_only.add(new)
    detail = [f"- {e[:300]}" for e in missing if e not in order_only]
    detail += [f"+ {e[:300]}" for e in extra if e not in order_only]
    if not detail:
        return "column_order_only", [f"~ {e[:200]}" for e in sorted(order_only)][:4]
    return "different", sorted(detail)[:12]


class Scratch:
    """A private PostgreSQL of the project's major with the Supabase baseline, for the
    independent round trips; `client`: the bin directory of its pg_dump and psql."""

    def __init__(self, cluster: Any, client: Path) -> None:
        self.cluster = cluster
        self.client = client
        self.main = "corpus_main"

    def url(self, db: str) -> str:
        return str(self.cluster.url(db))

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def setup(self) -> None:
        import psycopg

        from migration_rollback.verify.baseline import load_baseline

        self.admin(f"CREATE DATABASE {self.main}")
        with psycopg.connect(self.url(self.main), autocommit=True) as conn:
            load_baseline(conn)

    def copy(self, name: str) -> None:
        """A copy of the main database, with its database-level settings (search_path...),
        which CREATE DATABASE ... TEMPLATE does not carry over."""
        import psycopg
        from psycopg import sql

        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.admin(f"CREATE DATABASE {name} TEMPLATE {self.main}")
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT r.rolname, s.setconfig FROM pg_db_role_setting s "
                "JOIN pg_database d ON d.oid = s.setdatabase "
                "LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE d.datname = %s",
                (self.main,),
            ).fetchall()
            for role, settings in rows:
                for setting in settings or []:
                    key, _, value = str(setting).partition("=")
                    # search_path is a list: its stored text is already SQL ("$user", public).
                    val: sql.Composable = (
                        sql.SQL(value) if key == "search_path" else sql.Literal(value)
                    )
                    target = sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                        sql.Identifier(name), sql.Identifier(key), val
                    )
                    if role is not None:
                        target = sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} = {}").format(
                            sql.Identifier(role), sql.Identifier(name), sql.Identifier(key), val
                        )
                    conn.execute(target)

    def drop(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def dump(self, db: str) -> Counter[str]:
        done = subprocess.run(
            [str(self.client / "pg_dump"), "--schema-only", "-d", self.url(db)],
            capture_output=True,
            text=True,
            timeout=PSQL_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {done.stderr.strip()[:300]}")
        return normalise_dump(done.stdout)

    def apply(self, db: str, path: Path) -> str | None:
        """Run a SQL file with psql, in one transaction when it can be; None or the error."""
        error = self._psql(db, path, single=True)
        if error and re.search(
            r"cannot (run|be executed) (inside|from) a (transaction block|function)|"
            r"cannot be executed within a pipeline|ALTER TYPE \.\.\. ADD cannot",
            error,
        ):
            error = self._psql(db, path, single=False)
        return error

    def apply_partly(self, db: str, path: Path) -> list[str]:
        """Run a SQL file statement by statement (autocommit), going on past the statements
        that fail: the tool's partial replay of a failed forward migration. Its errors."""
        return self._psql_errors(db, path, single=False, stop=False)

    def _psql(self, db: str, path: Path, *, single: bool) -> str | None:
        errors = self._psql_errors(db, path, single=single)
        return errors[0] if errors else None

    def _psql_errors(self, db: str, path: Path, *, single: bool, stop: bool = True) -> list[str]:
        on_error = ["-v", "ON_ERROR_STOP=1"] if stop else [
            "-v", "ON_ERROR_STOP=0",
            # inside the file's own BEGIN ... COMMIT too: a savepoint per statement, as the tool
            "-v", "ON_ERROR_ROLLBACK=on",
        ]  # fmt: skip
        args = [str(self.client / "psql"), "-X", "-q", *on_error, "-d", self.url(db)]
        if single:
            args.append("--single-transaction")
        try:
            done = subprocess.run(
                [*args, "-f", str(path)],
                capture_output=True,
                text=True,
                timeout=PSQL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return ["psql timed out"]
        lines = [ln for ln in done.stderr.splitlines() if "ERROR" in ln or "FATAL" in ln]
        if done.returncode == 0 and (stop or not lines):
            return []
        return lines or [done.stderr.strip()[:300] or f"exit {done.returncode}"]


@contextlib.contextmanager
def scratch_server(major: int | None) -> Iterator[Scratch]:
    """`major`: the project's (None: the server the tool would start without one)."""
    from binaries import client_bindir, server_bindir

    from migration_rollback.verify.cluster import temporary_cluster

    with temporary_cluster(server_bindir(major)) as cluster:
        print(f"scratch cluster (PostgreSQL {cluster.major}): {cluster.placement}", file=sys.stderr)
        scratch = Scratch(cluster, client_bindir(cluster.major or 0))
        scratch.setup()
        yield scratch


def round_trip(scratch: Scratch, forward: Path, undo: Path, name: str) -> Check:
    """Forward + undo on a copy of the main database, compared with the main database."""
    before = scratch.dump(scratch.main)
    copy = "corpus_check"
    scratch.copy(copy)
    try:
        error = scratch.apply(copy, forward)
        if error:
            return Check(name, "forward_error", [error])
        error = scratch.apply(copy, undo)
        if error:
            return Check(name, "rollback_error", [error])
        verdict, detail = compare(before, scratch.dump(copy))
        return Check(name, verdict, detail)
    finally:
        scratch.drop(copy)


@dataclass
class Independent:
    ours: list[Check] = field(default_factory=list)
    theirs: list[Check] = field(default_factory=list)
    stopped: str | None = None  # unused since forward failures are replayed in part
    partial: list[str] = field(default_factory=list)  # forwards that failed: replayed in part
    error: str | None = None
    major: int | None = None  # the PostgreSQL major it ran on
    # What the partial replays could not find ("type "vector" does not exist" -> the migration),
    # and the extensions this server lacks ("vector" -> the migration that asked for it).
    missing: dict[str, str] = field(default_factory=dict)
    lacking: dict[str, str] = field(default_factory=dict)

    def learn(self, name: str, errors: list[str]) -> None:
        """Record what a forward's partial replay failed on."""
        for line in errors:
            message = error_message(line)
            unavailable = _UNAVAILABLE.search(message)
            if unavailable:
                extension = unavailable.group(1) or unavailable.group(2)
                self.lacking.setdefault(extension, name)
            elif _UNDEFINED.search(message):
                self.missing.setdefault(message, name)

    def gap(self, check: Check) -> Check:
        """A rollback that fails on an object this server never got is inconclusive."""
        if check.verdict != "rollback_error" or not check.detail:
            return check
        reason = environment_gap(check.detail[0], self.missing, self.lacking)
        if reason is None:
            return check
        return replace(check, verdict="inconclusive", detail=[reason, *check.detail])


# psql's "psql:FILE:LINE: ERROR:  MESSAGE" (SQLSTATE and context lines apart).
_PSQL_ERROR = re.compile(r"^(?:psql:.*?:\d+: )?(?:ERROR|FATAL):\s+")
_UNAVAILABLE = re.compile(  # PostgreSQL 15+, then the older servers' wording
    r'^extension "([^"]+)" is not available'
    r'|^could not open extension control file "[^"]*/([^/"]+)\.control"'
)
_UNDEFINED = re.compile(r"\bdoes not exist$")


def error_message(line: str) -> str:
    """The server's message of a psql error line, without psql's file:line prefix."""
    return _PSQL_ERROR.sub("", line.strip())


def environment_gap(error: str, missing: dict[str, str], lacking: dict[str, str]) -> str | None:
    """Why a rollback's failure says nothing about the rollback, or None: the object it could
    not find is one an earlier forward failed to find on this server too, and this server lacks
    an extension the project creates (the tool replays that extension with a stand-in, so the
    object exists on its shadow and on the real database)."""
    message = error_message(error)
    if not lacking or not _UNDEFINED.search(message) or message not in missing:
        return None
    extensions = ", ".join(f"{e} ({m})" for e, m in sorted(lacking.items()))
    return (
        f"this server never got it: {message} in the replay of {missing[message]} too; "
        f"extensions not available here: {extensions}"
    )


def independent(
    migrations: Path, names: list[str], verified: set[str], downs: Path | None, deadline: float
) -> Independent:
    """Replay the migrations in order; round-trip ours (when verified) and theirs (any)."""
    from binaries import project_major

    result = Independent()
    try:
        with scratch_server(project_major(migrations)) as scratch:
            result.major = scratch.cluster.major
            for name in names:
                if time.monotonic() > deadline:
                    result.error = "independent check timed out"
                    break
                forward = migrations / f"{name}.sql"
                ours = migrations / f"{name}_rollback.sql"
                if name in verified and ours.exists():
                    check = result.gap(round_trip(scratch, forward, ours, name))
                    check.after_partial = (
                        result.partial[-1].split(":", 1)[0] if result.partial else None
                    )
                    result.ours.append(check)
                theirs = downs / f"{name}.sql" if downs else None
                if theirs is not None and theirs.exists():
                    result.theirs.append(result.gap(round_trip(scratch, forward, theirs, name)))
                error = scratch.apply(scratch.main, forward)
                if error:  # as the tool does: the statements that fail skipped, the rest kept
                    result.partial.append(f"{name}: {error}")
                    result.learn(name, scratch.apply_partly(scratch.main, forward))
    except Exception as exc:  # the check must not stop the run
        result.error = f"{type(exc).__name__}: {exc}"[:400]
    return result


# --- one project --------------------------------------------------------------------------------


@dataclass
class ProjectResult:
    project: str
    repo: str
    commit: str
    migrations: int = 0
    replayed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    forward_failed: list[str] = field(default_factory=list)  # "migration: cause"
    generate_exit: int | None = None
    validate_exit: int | None = None
    generate_statuses: dict[str, int] = field(default_factory=dict)
    outcome: str = "ok"  # ok | crash | timeout | error | refused
    problem: str = ""
    seconds: float = 0.0
    independent_checked: int = 0
    false_verified: list[dict[str, Any]] = field(default_factory=list)
    column_order_only: list[str] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    independent_stopped: str | None = None
    independent_partial: list[str] = field(default_factory=list)
    independent_error: str | None = None
    independent_major: int | None = None
    has_downs: bool = False
    per_migration: list[dict[str, Any]] = field(default_factory=list)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


_GEN_LINE = re.compile(r"^\s{2}(\w+)\s+(\S+) \(\d+ filled")


def run_project(folder: Path, timeout: float, *, check: bool) -> ProjectResult:
    entry = _entry(folder)
    result = ProjectResult(
        folder.name, str(entry.get("repo", folder.name)), str(entry.get("commit", ""))
    )
    started = time.monotonic()
    deadline = started + timeout
    with tempfile.TemporaryDirectory(prefix="corpus-run-") as tmp:
        work = Path(tmp)
        shutil.copytree(folder / "supabase", work / "supabase")
        migrations = work / "supabase" / "migrations"
        gen = invoke(["generate", "--verify"], work, deadline - time.monotonic())
        result.generate_exit = gen.returncode
        for line in gen.stdout.splitlines():
            m = _GEN_LINE.match(line)
            if m:
                result.generate_statuses[m.group(1)] = (
                    result.generate_statuses.get(m.group(1), 0) + 1
                )
        if gen.returncode is None:
            result.outcome, result.problem = "timeout", "generate --verify timed out"
        elif gen.crashed:
            result.outcome, result.problem = "crash", "generate: " + _tail(gen.stderr or gen.stdout)
        elif gen.returncode not in (0, 1):
            result.outcome, result.problem = "error", "generate: " + _tail(gen.stderr or gen.stdout)
        doc: dict[str, Any] | None = None
        if result.outcome != "timeout":
            val = invoke(
                ["validate", "--verify", "--format", "json"], work, deadline - time.monotonic()
            )
            result.validate_exit = val.returncode
            doc = parse_json(val.stdout)
            if val.returncode is None:
                result.outcome, result.problem = "timeout", "validate --verify timed out"
            elif doc is None and val.returncode == 2 and not val.crashed:
                # A clean refusal (exit 2, one error line: e.g. no `<digits>_<name>.sql` file,
                # which the Supabase CLI skips too): counted apart, never as a verdict.
                result.outcome = "refused"
                result.problem = "validate: " + _tail(val.stderr or val.stdout, 2)
            elif val.crashed or doc is None:
                result.outcome = "crash"
                result.problem += (
                    ("\n" if result.problem else "")
                    + "validate: "
                    + _tail(val.stderr or val.stdout)
                )
        if doc is not None:
            _count(result, doc, migrations)
        verified = {p["migration"] for p in result.per_migration if p["status"] == "verified"}
        downs = folder / "down"
        result.has_downs = downs.is_dir()
        if check and doc is not None:
            # What the tool replayed, in its order (not the files it left out, e.g. duplicate
            # versions): the same states as the tool's shadow, so that verdicts compare.
            names = [
                p["migration"] for p in result.per_migration if p.get("status") not in NOT_REPLAYED
            ]
            ind = independent(
                migrations,
                names,
                verified,
                downs if result.has_downs else None,
                max(deadline, time.monotonic() + 600),
            )
            _record(result, ind)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _entry(folder: Path) -> dict[str, Any]:
    path = folder / ENTRY_FILE
    if path.exists():
        with contextlib.suppress(ValueError):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(doc, dict):
                return doc
    return {}


# Statuses of a migration whose forward replayed and whose rollback was run: the ones the
# issue's target ("verified wherever no data is involved") is measured on.
ROUND_TRIPPED = frozenset({"verified", "manual", "mismatch", "rollback_failed"})
_DATA_NEEDS = re.compile(r"\b(DATA_CHANGE|DATA):")


def data_involved(forward: Path, proof: dict[str, Any] | None) -> bool:
    """Whether a migration involves data: a statement that writes or destroys rows (INSERT,
    UPDATE, DELETE, MERGE, COPY, TRUNCATE, DROP TABLE/COLUMN…, a DO block writing rows), or a
    MANUAL item of a data kind in its verdict. Unreadable: counted as data."""
    from migration_rollback.errors import MigrationRollbackError
    from migration_rollback.sql import classify, parse_script
    from migration_rollback.verify.stateful.dynamic import code_writes_rows

    # (not the verdict's data loss: a rollback dropping a table the migration made loses the
    # rows written since, yet that migration changed no data)
    if proof is not None and any(_DATA_NEEDS.search(str(m)) for m in proof.get("manual") or []):
        return True
    try:
        script = parse_script(forward.read_text(encoding="utf-8"), forward.name)
    except (OSError, ValueError, MigrationRollbackError):  # unreadable, not UTF-8, no parse
        return True
    return any(
        st.kind in ("InsertStmt", "CopyStmt")
        or classify(st).destroys_data
        or (st.kind == "DoStmt" and code_writes_rows(st.text))
        for st in script.statements
    )


def _count(result: ProjectResult, doc: dict[str, Any], migrations: Path | None = None) -> None:
    items = doc.get("migrations") or doc.get("results") or []
    counts: Counter[str] = Counter()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        status = status_of(item)
        name = migration_name(item)
        counts[status] += 1
        row: dict[str, Any] = {"migration": name, "status": status}
        if status == "forward_failed":
            cause = cause_of(proof_of(item))
            result.forward_failed.append(f"{name}: {cause}")
            row["cause"] = cause
            row["cause_kind"] = cause_kind(proof_of(item))
        if migrations is not None and status in ROUND_TRIPPED:
            row["data"] = data_involved(migrations / f"{name}.sql", proof_of(item))
            restored = (proof_of(item) or {}).get("schema_restored")
            row["schema"] = status == "verified" or restored is True
        result.per_migration.append(row)
    result.migrations = sum(counts.values())
    result.replayed = sum(n for s, n in counts.items() if s not in NOT_REPLAYED)
    result.statuses = dict(counts)


def _record(result: ProjectResult, ind: Independent) -> None:
    rows = {p["migration"]: p for p in result.per_migration}
    result.independent_checked = len(ind.ours)
    for c in ind.ours:
        rows[c.migration]["ours_independent"] = c.verdict
        if c.verdict in ("different", "rollback_error"):
            result.false_verified.append(asdict(c))
        elif c.verdict == "column_order_only":
            result.column_order_only.append(c.migration)
        elif c.verdict in ("forward_error", "inconclusive"):
            result.inconclusive.append(f"{c.migration}: {c.detail[0] if c.detail else ''}")
    for c in ind.theirs:
        rows[c.migration]["theirs_independent"] = c.verdict
        rows[c.migration]["theirs_detail"] = c.detail[:3]
    result.independent_stopped = ind.stopped
    result.independent_partial = list(ind.partial)
    result.independent_error = ind.error
    result.independent_major = ind.major


# --- reporting ----------------------------------------------------------------------------------

COLUMNS = ("verified", "manual", "mismatch", "rollback_failed", "forward_failed", "skipped")


def _row(name: str, r: dict[str, Any], extra: list[str]) -> str:
    s = r["statuses"]
    cells = [f"{r['migrations']:5d}", f"{r['replayed']:5d}"]
    cells += [f"{s.get(c, 0):5d}" for c in COLUMNS]
    cells += [f"{r.get('crash', 0):5d}", f"{r['seconds']:7.1f}"]
    cells += [f"{r.get('checked', 0):5d}", f"{r.get('false', 0):5d}"]
    return f"{name[:44]:44} " + " ".join(cells) + ("  " + ", ".join(extra) if extra else "")


def report(results: list[ProjectResult]) -> dict[str, Any]:
    head = (
        f"{'project':44} {'migs':>5} {'repl':>5} {'verif':>5} {'manu':>5} {'mism':>5} "
        f"{'rbfail':>5} {'fwfail':>5} {'skip':>5} {'crash':>5} {'secs':>7} {'indep':>5} "
        f"{'FALSE':>5}"
    )
    print(head)
    print("-" * len(head))
    total: dict[str, Any] = {
        "migrations": 0,
        "replayed": 0,
        "statuses": Counter(),
        "crash": 0,
        "seconds": 0.0,
        "checked": 0,
        "false": 0,
    }
    for r in sorted(results, key=lambda x: x.project.lower()):
        unknown = [f"{k}={v}" for k, v in r.statuses.items() if k not in COLUMNS]
        extra = unknown + ([f"{r.outcome}: {r.problem.splitlines()[-1][:80]}"] if r.problem else [])
        crash = 1 if r.outcome in ("crash", "timeout") else 0
        row = {
            "migrations": r.migrations,
            "replayed": r.replayed,
            "statuses": r.statuses,
            "crash": crash,
            "seconds": r.seconds,
            "checked": r.independent_checked,
            "false": len(r.false_verified),
        }
        print(_row(r.project, row, extra))
        total["migrations"] += r.migrations
        total["replayed"] += r.replayed
        total["statuses"].update(r.statuses)
        total["crash"] += crash
        total["seconds"] += r.seconds
        total["checked"] += r.independent_checked
        total["false"] += len(r.false_verified)
    print("-" * len(head))
    unknown = [f"{k}={v}" for k, v in total["statuses"].items() if k not in COLUMNS]
    print(_row(f"TOTAL ({len(results)} projects)", total, unknown))
    outcomes = Counter(r.outcome for r in results)
    print(f"\noutcomes: {dict(outcomes)}")

    causes: Counter[str] = Counter()
    print("\nforward_failed (replayed in part, failing statements skipped; the replay goes on):")
    for r in results:
        for line in r.forward_failed:
            print(f"  {r.project}: {line}")
            causes[cause_group(line.split(": ", 1)[1] if ": " in line else line)] += 1
    if causes:
        print("  by cause:")
        for cause, n in causes.most_common():
            print(f"    {n:3d}  {cause}")
    kinds = Counter(
        str(m.get("cause_kind", "?"))
        for r in results
        for m in r.per_migration
        if m.get("status") == "forward_failed"
    )
    environment = sum(n for k, n in kinds.items() if k in ENVIRONMENT)
    counted = total["migrations"] - sum(total["statuses"].get(s, 0) for s in NOT_REPLAYED)
    share = (counted - environment) / total["migrations"] if total["migrations"] else 0.0
    print(f"  by kind: {dict(kinds.most_common())}")
    print(
        f"  replayed, not skipped and not failed for an environment reason: "
        f"{counted - environment}/{total['migrations']} ({share:.1%})"
    )

    no_data = no_data_share(results)
    print(
        f"\nno data involved (round-tripped, no data-changing statement, no data MANUAL item): "
        f"verified {no_data['verified']}/{no_data['migrations']} ({no_data['share']:.1%}; "
        f"target >= 95%); with data: {no_data['with_data']}; forward_failed, not counted: "
        f"{total['statuses'].get('forward_failed', 0)}"
    )

    false = [(r.project, f) for r in results for f in r.false_verified]
    order = [(r.project, m) for r in results for m in r.column_order_only]
    majors = Counter(r.independent_major for r in results if r.independent_major)
    print(
        "\nindependent check (pg_dump --schema-only round trip on each project's major: "
        + ", ".join(f"PostgreSQL {m} x{n}" for m, n in sorted(majors.items()))
        + "):"
    )
    print(
        f"  checked {total['checked']} verified migrations; FALSE VERIFIED: {len(false)} "
        f"({sum(1 for _, f in false if f.get('after_partial'))} of them after a partial replay "
        f"on the independent server); column order only (tolerated by the tool): {len(order)}"
    )
    for project, f in false:
        after = (
            f" (after a partial replay of {f['after_partial']})" if f.get("after_partial") else ""
        )
        print(f"  FALSE {project} {f['migration']}: {f['verdict']}{after}")
        for line in f["detail"][:6]:
            print(f"        {line[:200]}")
    for r in results:
        for line in r.inconclusive:
            print(f"  inconclusive {r.project} {line[:160]}")
        if r.independent_error:
            print(f"  independent check error {r.project}: {r.independent_error[:200]}")
        if r.independent_stopped:
            print(f"  independent replay stopped {r.project}: {r.independent_stopped[:200]}")

    table = two_by_two(results)
    return {
        "totals": {
            **total,
            "statuses": dict(total["statuses"]),
            "outcomes": dict(outcomes),
            "forward_failed_causes": dict(causes),
            "forward_failed_kinds": dict(kinds),
            "replayed_share": round(share, 4),
            "no_data": no_data,
            "false_verified": len(false),
            "column_order_only": len(order),
        },
        "two_by_two": table,
    }


def no_data_share(results: list[ProjectResult]) -> dict[str, Any]:
    """Of the round-tripped migrations where no data is involved: how many are verified."""
    rows = [p for r in results for p in r.per_migration if p.get("status") in ROUND_TRIPPED]
    clean = [p for p in rows if p.get("data") is False]
    verified = sum(1 for p in clean if p["status"] == "verified")
    return {
        "migrations": len(clean),
        "verified": verified,
        "share": round(verified / len(clean), 4) if clean else 0.0,
        "with_data": sum(1 for p in rows if p.get("data") is True),
        "statuses": dict(Counter(str(p["status"]) for p in clean)),
    }


def two_by_two(results: list[ProjectResult]) -> dict[str, int]:
    """Projects with hand-written downs: ours (tool verified and confirmed) x theirs."""
    cells: Counter[str] = Counter()
    for r in results:
        if not r.has_downs:
            continue
        for p in r.per_migration:
            if "theirs_independent" not in p:
                continue
            ours = p["status"] == "verified" and p.get("ours_independent") in (
                "same",
                "column_order_only",
            )
            theirs = p["theirs_independent"] in ("same", "column_order_only")
            cells[f"ours_{'y' if ours else 'n'}_theirs_{'y' if theirs else 'n'}"] += 1
    if not cells:
        return {}
    print("\nhand-written down migrations, same round trip (per migration):")
    print(f"  {'':22} {'theirs verified':>16} {'theirs not':>11}")
    for o in ("y", "n"):
        label = "ours verified" if o == "y" else "ours not"
        print(f"  {label:22} {cells[f'ours_{o}_theirs_y']:16d} {cells[f'ours_{o}_theirs_n']:11d}")
    theirs_fail: Counter[str] = Counter()
    for r in results:
        for p in r.per_migration:
            verdict = p.get("theirs_independent")
            if verdict and verdict not in ("same", "column_order_only"):
                theirs_fail[f"{r.project}: {verdict}"] += 1
    for key, n in sorted(theirs_fail.items()):
        print(f"    theirs not verified: {key} x{n}")
    return dict(cells)


# --- main ---------------------------------------------------------------------------------------


def manifest_folders(manifest: Path) -> set[str]:
    """Folder names (`<owner>__<name>`) of a manifest's projects, as rebuild.py names them."""
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    return {str(p["repo"]).replace("/", "__") for p in doc["projects"]}


def projects_in(
    corpus: Path, wanted: list[str], limit: int | None, manifest: Path | None = None
) -> list[Path]:
    folders = sorted(
        (p for p in corpus.iterdir() if (p / "supabase" / "migrations").is_dir()),
        key=lambda p: p.name.lower(),
    )
    if manifest is not None:  # a corpus folder may hold projects of several manifests
        listed = manifest_folders(manifest)
        folders = [f for f in folders if f.name in listed]
    if wanted:
        keys = [w.lower().replace("/", "__") for w in wanted]
        folders = [f for f in folders if any(k in f.name.lower() for k in keys)]
    return folders[:limit] if limit else folders


def git_head() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--manifest", type=Path, default=None, help="only this manifest's projects (default: all)"
    )
    parser.add_argument("--project", action="append", default=[], help="only these (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="at most N projects")
    parser.add_argument("--jobs", type=int, default=1, help="projects run at once")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per project")
    parser.add_argument("--json", type=Path, default=None, help="save the figures here")
    parser.add_argument(
        "--no-independent", action="store_true", help="skip the independent pg_dump check"
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}: run bench/corpus/rebuild.py first", file=sys.stderr)
        return 2
    folders = projects_in(args.corpus, args.project, args.limit, args.manifest)
    if not folders:
        print("no project matches", file=sys.stderr)
        return 2
    started = time.monotonic()
    results: list[ProjectResult] = []
    with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = {
            pool.submit(run_project, f, args.timeout, check=not args.no_independent): f
            for f in folders
        }
        for future in as_completed(futures):
            folder = futures[future]
            try:
                r = future.result()
            except Exception as exc:  # the harness itself failed on this project: record it
                r = ProjectResult(
                    folder.name,
                    folder.name,
                    "",
                    outcome="crash",
                    problem=f"harness: {type(exc).__name__}: {exc}",
                )
            results.append(r)
            s = r.statuses
            print(
                f"[{len(results)}/{len(folders)}] {r.project}: {r.migrations} migrations, "
                f"{s.get('verified', 0)} verified, {s.get('manual', 0)} manual, "
                f"{len(r.false_verified)} false verified, {r.outcome}, {r.seconds:.0f}s",
                flush=True,
            )
    print()
    figures = report(results)
    wall = time.monotonic() - started
    print(f"\nwall time {wall:.0f}s, {len(results)} projects, commit {git_head()[:12]}")
    if args.json:
        doc = {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_head(),
            "wall_seconds": round(wall, 1),
            **figures,
            "projects": [asdict(r) for r in sorted(results, key=lambda x: x.project.lower())],
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"figures saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
