"""Names for archived data: readable, traceable to the run, and within PostgreSQL's 63 bytes.

An archived table is called `<table>__<version>__<UTC time>`, e.g.
`likes__20251113000001__20261124t031500z`, so that a human listing the archive schema sees
what it was, which migration's rollback moved it and when (lower case: no quoting needed in
psql). PostgreSQL
silently truncates identifiers longer than 63 bytes, which could make two archives collide, so
long names are shortened here and a short hash of the full name keeps them distinct.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

ARCHIVE_SCHEMA = "migration_rollback_archive"
NAMEDATALEN = 63
_HASH_LEN = 8


def truncate_bytes(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `limit` bytes."""
    return text.encode()[: max(0, limit)].decode(errors="ignore")


def short_hash(text: str, length: int = _HASH_LEN) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit_identifier(base: str, suffix: str = "") -> str:
    """`base + suffix` if it fits in 63 bytes, else a shortened base, a hash, then the suffix."""
    full = base + suffix
    if len(full.encode()) <= NAMEDATALEN:
        return full
    digest = short_hash(full)
    budget = NAMEDATALEN - len(suffix.encode()) - len(digest) - 1
    if budget < 1:
        return truncate_bytes(f"{truncate_bytes(base, 20)}_{short_hash(full, 16)}", NAMEDATALEN)
    return f"{truncate_bytes(base, budget)}_{digest}{suffix}"


def run_stamp(when: datetime) -> str:
    """`20261124t031500z`: sortable, and lower case so the name needs no quoting in psql."""
    return when.strftime("%Y%m%dt%H%M%Sz")


def archived_table_name(table: str, version: str, when: datetime) -> str:
    return fit_identifier(table, f"__{version}__{run_stamp(when)}")


def archived_column_name(table: str, column: str, version: str, when: datetime) -> str:
    return fit_identifier(f"{table}__{column}", f"__{version}__{run_stamp(when)}")


def collision_free_name(name: str, owner: str) -> str:
    """A new name for an index or sequence that would clash in the archive schema."""
    return fit_identifier(name, f"_{short_hash(owner, 6)}")
