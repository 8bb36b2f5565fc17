"""Find forward migrations (`<timestamp>_<name>.sql`) and their rollback siblings on disk.

This is the file-system edge of `generate`, `validate` and `emergency`; the engine itself
receives text. A folder is whatever people put in it: a directory or a named pipe called
`*.sql`, a broken symlink or one leading out of the folder, a file in UTF-16 or with NUL
bytes. Each such file gets its own `SourceFileError` (what and where) and the other files are
still processed. Two files with one version are both read and replayed, in name order as the
Supabase CLI lists them, each carrying a DUPLICATE_VERSION warning: they still get verdicts,
and only the commands that act on a live database (`apply`, `execute`) refuse the ambiguity.
Text is decoded tolerantly (UTF-8, with or without a BOM, else Windows-1252 with a warning),
because an odd encoding must not crash a rollback tool.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path

from migration_rollback import input_limits
from migration_rollback.errors import ProjectError, SourceFileError, SourceLocation
from migration_rollback.records import quick_init
from migration_rollback.shown import shown
from migration_rollback.sqltext import NUL_PROBLEM, line_of, looks_utf16, nul_line

MIGRATION_NAME = re.compile(r"(?P<version>[0-9]+)_(?P<title>.+)", re.DOTALL)
ROLLBACK_SUFFIX = "_rollback"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class Migration:
    """One forward migration and where its rollback artifacts live."""

    name: str
    version: str
    path: Path
    problem: SourceFileError | None = None  # set when the file cannot be used at all
    # Set when another file has this version: readable, but ambiguous on a live database.
    duplicate: SourceFileError | None = None

    @property
    def rollback_path(self) -> Path:
        return self.path.with_name(f"{self.name}{ROLLBACK_SUFFIX}.sql")

    @property
    def doc_path(self) -> Path:
        return self.path.with_name(f"{self.name}{ROLLBACK_SUFFIX}.md")


@quick_init
@dataclass(frozen=True, slots=True)
class SourceText:
    text: str
    sha256: str
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Scan:
    """What a migrations folder holds: migrations (some with a problem) and ignored files."""

    migrations: list[Migration]
    ignored: list[str] = field(default_factory=list)
    # Named like a rollback with no forward beside it (in `ignored` too): Supabase applies it
    # as a migration of its own, so `apply` may not pass over it (apply_pending.py).
    unpaired: list[Migration] = field(default_factory=list)


def _forward_of(path: Path) -> Path:
    return path.with_name(path.stem[: -len(ROLLBACK_SUFFIX)] + path.suffix)


def _stem_and_suffix(name: str) -> tuple[str, str]:
    """`Path(name).stem` and `.suffix` (the last dot's part, not a leading or final dot)."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[:dot], name[dot:]
    return name, ""


def _unpaired(path: Path) -> str:
    """A file named like a rollback with no forward beside it: Supabase applies it as a migration
    of its own. Not read as one here (`execute` of a migration whose file was removed reads its
    rollback), but said, the same line for every command: it was skipped silently."""
    forward = shown(printable(_forward_of(path).name))
    return (
        f"{shown(printable(str(path)))}: named like a rollback file, but its forward migration "
        f"{forward} is not here, so Supabase applies it as a migration of its own: rename it "
        f"if it is one (not ending in {ROLLBACK_SUFFIX}), or move it out of the folder once "
        "its migration is rolled back"
    )


def _problem(path: Path, message: str, code: str = "FILE", line: int = 0) -> SourceFileError:
    return SourceFileError(SourceLocation(shown(printable(path.name)), line, 0), message, code)


def printable(name: str) -> str:
    """A file name as it can be shown: bytes that are not UTF-8 (which Python keeps as lone
    surrogates, and which no output can encode) as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _name_problem(path: Path) -> SourceFileError | None:
    if _CONTROL.search(path.name):
        return _problem(path, "the file name holds control characters: rename it")
    if printable(path.name) != path.name:
        return _problem(path, "the file name is not UTF-8 text: rename it", "ENCODING")
    return None


def scan(directory: Path) -> Scan:
    """Forward migrations in version order; unusable ones carry their problem."""
    entries = _entries(directory)
    listed = {path.name for path in entries}
    found: list[Migration] = []
    ignored: list[str] = []
    unpaired: list[Migration] = []
    for path in entries:  # each name read once: Path's properties cost more than the rest
        stem, suffix = _stem_and_suffix(path.name)
        if suffix.lower() != ".sql":
            continue
        if stem.endswith(ROLLBACK_SUFFIX):
            if f"{stem[: -len(ROLLBACK_SUFFIX)]}{suffix}" in listed:
                continue  # read with its forward migration, not as one
            ignored.append(_unpaired(path))
            named = MIGRATION_NAME.fullmatch(printable(stem))
            if named is not None:
                unpaired.append(Migration(printable(stem), named.group("version"), path))
            continue
        stem = printable(stem)
        match = MIGRATION_NAME.fullmatch(stem)
        if match is None or suffix != ".sql":
            why = (
                "not named <timestamp>_<name>.sql" if match is None else "not '.sql' in lower case"
            )
            ignored.append(f"{shown(printable(str(path)))}: ignored: {why} (Supabase skips it too)")
            continue
        problem = file_problem(path, directory)
        found.append(Migration(stem, match.group("version"), path, problem))
    found = _flag_duplicate_versions(found)
    return Scan(sorted(found, key=lambda m: (m.version, m.path.name)), ignored, unpaired)


def discover(directory: Path) -> list[Migration]:
    return scan(directory).migrations


def require_migrations(directory: Path, found: Scan) -> None:
    """For the commands that need migrations: a folder without one is an error naming it (a
    wrong --dir must not read as "nothing to do"); the files it skipped are the caller's
    warnings (`found.ignored`), the same lines for every command."""
    if not found.migrations:
        skipped = (
            f"; {len(found.ignored)} file(s) skipped, see the warnings" if found.ignored else ""
        )
        raise ProjectError(
            f"{directory}: no migrations in this folder (expected <timestamp>_<name>.sql "
            f"files{skipped})"
        )


def _entries(directory: Path) -> list[Path]:
    if not directory.exists():
        raise ProjectError(
            f"{directory}: migrations directory not found (use --dir to point at it)"
        )
    if not directory.is_dir():
        raise ProjectError(f"{directory}: not a directory (use --dir to point at the migrations)")
    try:
        # By name: the order of Paths of one folder, without Path's own (slow) comparison.
        return sorted(directory.iterdir(), key=attrgetter("name"))
    except OSError as exc:
        raise ProjectError(f"{directory}: cannot list the folder: {exc.strerror}") from None


def file_problem(path: Path, directory: Path) -> SourceFileError | None:
    """Why `path` cannot be read as a migration, found without opening it; None if it can."""
    named = _name_problem(path)
    if named is not None:
        return named
    try:  # one lstat, and a stat only through a link: each file is asked at scan and at read
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            problem = _symlink_problem(path, directory)
            if problem:
                return problem
            mode = os.stat(path).st_mode
    except OSError as exc:
        return _problem(path, f"cannot read it: {exc.strerror}")
    if not stat.S_ISREG(mode):
        return _problem(path, f"is {_kind(mode)}, not a SQL file")
    return None


def _symlink_problem(path: Path, directory: Path) -> SourceFileError | None:
    target = os.readlink(path)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python 3.11
        return _problem(path, f"broken symbolic link (to {target})")
    if not resolved.is_relative_to(directory.resolve()):
        return _problem(
            path, f"symbolic link to {resolved}, outside the migrations folder: refused"
        )
    return None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _flag_duplicate_versions(migrations: list[Migration]) -> list[Migration]:
    """Supabase records one row per version: two files with one version cannot both apply.

    Every file of such a version carries the warning (naming all of them); none is dropped.
    """
    by_version: dict[str, list[Migration]] = defaultdict(list)
    for migration in migrations:
        by_version[migration.version].append(migration)
    out: list[Migration] = []
    for migration in migrations:
        same = by_version[migration.version]
        if len(same) > 1:
            names = ", ".join(sorted(m.path.name for m in same))
            message = (
                f"version {migration.version} is used by {len(same)} files ({names}): a version "
                "is applied once, so rename all but one (replayed here in name order)"
            )
            migration = replace(
                migration, duplicate=_problem(migration.path, message, "DUPLICATE_VERSION")
            )
        out.append(migration)
    return out


def find(directory: Path, name: str) -> Migration:
    """A migration by full name (`20251113000001_x`), version (`20251113000001`) or file name.

    A version shared by several files is ambiguous: the caller must name the file.
    """
    wanted = name.removesuffix(".sql")
    migrations = discover(directory)
    exact = [m for m in migrations if m.name == wanted]
    by_version = [m for m in migrations if m.version == wanted]
    if exact or len(by_version) == 1:
        return (exact or by_version)[0]
    if by_version:
        names = ", ".join(m.path.name for m in by_version)
        raise ProjectError(
            f"{directory}: version {wanted} is used by {len(by_version)} files ({names}): "
            "name the file"
        )
    known = ", ".join(m.name for m in migrations[-5:]) or "none"
    raise ProjectError(f"{directory}: no migration named {name!r} (latest: {known})")


class FileTooLargeError(OSError):
    """A file past the size limit, found before it is read (input_limits)."""

    def __init__(self, size: int) -> None:
        super().__init__(errno.EFBIG, "file too large")
        self.size = size


def read_regular_file(path: Path, *, follow: bool = True, limit: int | None = None) -> bytes:
    """The bytes of a regular file; OSError (with a clear strerror) for anything else, and
    for a symbolic link when not to `follow` one; FileTooLargeError past `limit` bytes.

    Opened non-blocking and checked after opening: a named pipe would otherwise block forever
    and a path could be swapped between a check and the read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW))
    try:
        status = os.fstat(fd)
        mode, size = status.st_mode, status.st_size
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{_kind(mode)}, not a regular file", str(path))
        if limit is not None and size > limit:
            raise FileTooLargeError(size)
        os.set_blocking(fd, True)
        # os.read, not a file object over the descriptor: that costs more than the read itself.
        chunks = [os.read(fd, size + 1)]
        while chunks[-1]:  # the file may have grown since fstat: read to its end
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_source(path: Path) -> SourceText:
    """Decode a SQL file, never failing on a legacy 8-bit encoding; SourceFileError when it is
    not readable text at all."""
    return decode_source(path, read_in_folder(path))


def decode_source(path: Path, data: bytes) -> SourceText:
    """The text of a SQL file's bytes (read once by the caller): see `read_source`."""
    _check_text(path, data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        # "utf-8-sig" only with the mark: its decoder is Python code, "utf-8"'s is C.
        return SourceText(
            data.decode("utf-8-sig" if data.startswith(_UTF8_BOM) else "utf-8"), digest
        )
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        # utf-8-sig counts its error's offset from after the mark.
        bad = exc.start + (len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
        line = line_of(data, bad)
        return SourceText(
            text,
            digest,
            f"{path.name}:{line}: not UTF-8 (byte 0x{data[bad]:02X}); read as "
            "Windows-1252: save the file as UTF-8",
        )


def read_in_folder(path: Path) -> bytes:
    """The bytes of a file of the migrations folder (`path.parent`), read once, by the folder's
    rule: a plain regular file is opened without following a link, which needs no look at it
    first; a link, or anything that is not a plain regular file, is judged by `file_problem`
    (a link out of the folder or a broken one refused, a pipe or folder named). A link is read
    through the target it was judged by, opened without following a link again, so a link
    swapped after the check cannot lead the read out of the folder. The one reader of every
    file `validate`, `apply` and `execute` check and use: what is checked is what is used.
    A file past the size limit (input_limits) is refused unread, naming size and limit."""
    limits = input_limits.current()
    try:
        return _read_by_rule(path, limits.file_bytes)
    except FileTooLargeError as exc:
        message = input_limits.file_too_large(exc.size, limits)
        raise _problem(path, message, "TOO_LARGE") from None


def _read_by_rule(path: Path, limit: int) -> bytes:
    if _name_problem(path) is None:
        try:  # a link, not a regular file, not there...: judged below
            return read_regular_file(path, follow=False, limit=limit)
        except FileTooLargeError:
            raise
        except OSError:
            pass
    problem = file_problem(path, path.parent)
    if problem is not None:
        raise problem
    try:
        return read_regular_file(_judged_target(path), follow=False, limit=limit)
    except FileTooLargeError:
        raise
    except OSError as exc:
        raise _problem(path, f"cannot read it: {exc.strerror}") from None


def _judged_target(path: Path) -> Path:
    """Where a link leads, checked again to be in the folder (it may have changed since
    `file_problem` looked); the path itself when it is no link."""
    if not path.is_symlink():
        return path
    target = path.resolve(strict=True)
    if not target.is_relative_to(path.parent.resolve()):
        raise _problem(path, f"symbolic link to {target}, outside the migrations folder: refused")
    return target


def _check_text(path: Path, data: bytes) -> None:
    """PostgreSQL reads SQL as 8-bit text: UTF-16 and NUL bytes never came from psql."""
    if data.startswith(_UTF16_BOMS):
        raise _problem(
            path,
            "UTF-16 text (byte-order mark); PostgreSQL tools read UTF-8: convert it "
            "(iconv -f UTF-16 -t UTF-8)",
            "ENCODING",
        )
    line = nul_line(data)
    if line is not None:
        hint = " (UTF-16 without a byte-order mark?)" if looks_utf16(data) else ""
        raise _problem(path, f"{NUL_PROBLEM}{hint}", "ENCODING", line)
