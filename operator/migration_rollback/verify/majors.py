"""Which PostgreSQL major the shadow must run, and what to say when it cannot.

A round trip proves a rollback only on the major the project runs: catalogs, syntax and
behaviour change between majors (`JSON_TABLE` and `MERGE ... RETURNING` exist from 17 on, for
instance). The required major comes, first found wins, from:

1. `--pg-major N` (`validate --verify`, `generate --verify`): the user said so;
2. the target server's version (`execute`, the operator: `requirement_for_target`);
3. `supabase/config.toml`, `[db] major_version` (what `supabase start` runs locally);

and with none of them, any major will do (the shadow's is still reported). A shadow of another
major is refused (`ShadowMajorError`) unless the user allowed it (`--allow-other-major`), and then
every verdict carries `off_major_label`. Everything here is pure except `read_config_major`,
which reads one file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from migration_rollback.errors import DatabaseUnavailableError, ProjectError

MIN_MAJOR = 10  # one-number majors start at 10; Supabase runs 13 and later
MAX_MAJOR = 99
SOURCE_FLAG = "--pg-major"
SOURCE_TARGET = "the target server"
CONFIG_KEY = "[db] major_version"
OVERRIDE_FLAG = "--allow-other-major"
BINARIES_SCRIPT = "scripts/pg-binaries.sh"
SUPABASE_LOCAL_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres"


class MajorConfigError(ProjectError):
    """`supabase/config.toml` cannot say which major the project runs (bad TOML or value)."""


class ShadowMajorError(DatabaseUnavailableError):
    """The shadow is (or would be) another major than the project's: no verdict is given.

    Not retryable: the same server or binaries give the same answer until someone acts.
    """

    retryable = False


@dataclass(frozen=True)
class ConfigMajor:
    """`[db] major_version` as read from a config file."""

    major: int
    path: str


@dataclass(frozen=True)
class MajorRequirement:
    """The major the shadow must run (None: any) and why; `allow_other`: label, don't refuse."""

    major: int | None = None
    source: str = ""
    allow_other: bool = False

    def describe(self) -> str:
        if self.major is None:
            return "any PostgreSQL major"
        suffix = f" ({self.source})" if self.source else ""
        return f"PostgreSQL {self.major}{suffix}"


def check_major(value: object, where: str) -> int:
    """A major version number as written by a person, or a MajorConfigError saying why not."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MajorConfigError(
            f"{where}: expected a PostgreSQL major version as a whole number (like 17), "
            f"got {value!r}"
        )
    if not MIN_MAJOR <= value <= MAX_MAJOR:
        raise MajorConfigError(
            f"{where}: {value} is not a PostgreSQL major version "
            f"(expected {MIN_MAJOR} to {MAX_MAJOR}, like 15 or 17)"
        )
    return value


def parse_config_major(text: str, where: str) -> int | None:
    """`[db] major_version` of a config.toml's text; None when the file does not set it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MajorConfigError(
            f"{where}: not valid TOML ({exc}); fix it or pass {SOURCE_FLAG}"
        ) from None
    db = doc.get("db")
    if db is None:
        return None
    if not isinstance(db, dict):
        raise MajorConfigError(f"{where}: [db] must be a table, got {type(db).__name__}")
    if "major_version" not in db:
        return None
    return check_major(db["major_version"], f"{where}: {CONFIG_KEY}")


def config_candidates(migrations_dir: Path, cwd: Path | None = None) -> list[Path]:
    """Where a project's config.toml may be: beside the migrations folder, then ./supabase/."""
    found = [migrations_dir.parent / "config.toml"]
    fallback = (cwd or Path.cwd()) / "supabase" / "config.toml"
    if fallback.resolve() != found[0].resolve():
        found.append(fallback)
    return found


def read_config_major(migrations_dir: Path, cwd: Path | None = None) -> ConfigMajor | None:
    """The project's `[db] major_version`, from the first config.toml found (None: not set)."""
    for path in config_candidates(migrations_dir, cwd):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MajorConfigError(f"{path}: cannot read it: {exc}") from None
        major = parse_config_major(text, str(path))
        return None if major is None else ConfigMajor(major, str(path))
    return None


def server_major(version_num: int) -> int:
    """The major of a `server_version_num` (170002 -> 17, 150010 -> 15; 90624 -> 9)."""
    return version_num // 10000


def parse_version_output(text: str) -> int | None:
    """The major in `postgres --version` output ("postgres (PostgreSQL) 17.11" -> 17)."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", text)
    return int(match.group(1)) if match else None


def choose_major(
    *,
    flag: int | None = None,
    target_version_num: int | None = None,
    config: ConfigMajor | None = None,
    allow_other: bool = False,
) -> MajorRequirement:
    """The required major: the flag, else the target server's, else config.toml's, else any."""
    if flag is not None:
        return MajorRequirement(check_major(flag, SOURCE_FLAG), SOURCE_FLAG, allow_other)
    if target_version_num is not None:
        major = server_major(target_version_num)
        return MajorRequirement(major, SOURCE_TARGET, allow_other)
    if config is not None:
        return MajorRequirement(config.major, f"{config.path} {CONFIG_KEY}", allow_other)
    return MajorRequirement(None, "", allow_other)


def requirement_for_target(
    server_version_num: int, *, allow_other: bool = False
) -> MajorRequirement:
    """For `execute` and the operator: the shadow must run the target server's major."""
    return choose_major(target_version_num=server_version_num, allow_other=allow_other)


def how_to_get(major: int) -> str:
    """The ways to a shadow of `major`, for messages."""
    from migration_rollback.verify.cluster import PG_BINDIR_ENV  # cluster imports this module

    return (
        f"get PostgreSQL {major} server binaries with `{BINARIES_SCRIPT} {major}` (from the "
        f"migration-rollback repository; cached in ~/.cache/migration-rollback/postgres/{major}) "
        f"or set {PG_BINDIR_ENV} to a PostgreSQL {major} bin directory, or pass "
        f"--shadow-url to a PostgreSQL {major} server (a `supabase start` stack: "
        f"{SUPABASE_LOCAL_URL})"
    )


def mismatch_message(req: MajorRequirement, actual: int, shadow: str) -> str:
    """The plain refusal: which major the project targets, which the shadow is, what to do."""
    return (
        f"the project targets PostgreSQL {req.major} but the shadow is PostgreSQL {actual} "
        f"({shadow}; the required major comes from {req.source}). A verdict from another major "
        f"is no proof: {how_to_get(req.major or actual)}; or pass {OVERRIDE_FLAG} to verify on "
        f"PostgreSQL {actual} anyway (every verdict labelled with it)"
    )


def missing_binaries_message(req: MajorRequirement, available: dict[int, str]) -> str:
    """No local binaries of the required major; `available`: major -> bin directory found."""
    if not available:
        return (
            f"the project targets PostgreSQL {req.major} ({req.source}) but no PostgreSQL "
            f"server binaries were found here at all. To verify: {how_to_get(req.major or 0)}"
        )
    newest = max(available)
    found = ", ".join(f"PostgreSQL {m} in {d}" for m, d in sorted(available.items()))
    return (
        f"the project targets PostgreSQL {req.major} but the shadow is PostgreSQL {newest}: "
        f"no PostgreSQL {req.major} server binaries were found (only {found}; the required "
        f"major comes from {req.source}). A verdict from another major is no proof: "
        f"{how_to_get(req.major or newest)}; or pass {OVERRIDE_FLAG} to verify on PostgreSQL "
        f"{newest} anyway (every verdict labelled with it)"
    )


LABEL_PREFIX = "ran on PostgreSQL "


def off_major_label(req: MajorRequirement, actual: int) -> str:
    """The label every verdict carries when it ran on another major than required."""
    return f"{LABEL_PREFIX}{actual}, not the project's PostgreSQL {req.major} ({OVERRIDE_FLAG})"


def label_in(notes: list[str]) -> str | None:
    """The off-major label among a verdict's notes, if any."""
    return next((n for n in notes if n.startswith(LABEL_PREFIX)), None)


def judge(req: MajorRequirement, actual: int, shadow: str) -> str | None:
    """None when the shadow's major will do; the verdict label when allowed; else refuse."""
    if req.major is None or req.major == actual:
        return None
    if req.allow_other:
        return off_major_label(req, actual)
    raise ShadowMajorError(mismatch_message(req, actual, shadow))
