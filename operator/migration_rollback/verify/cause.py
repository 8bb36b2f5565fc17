"""A classified cause of a failed forward migration, and the names in the server's message.
Pure, no I/O.

Its own module so that the classifiers (causes.py, placement.py) share it without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

CauseKind = Literal[
    "depends_on", "missing_extension", "missing_platform_object", "other_major",
    "created_later", "not_created", "migration_error",
]  # fmt: skip
CAUSE_KINDS: tuple[CauseKind, ...] = get_args(CauseKind)

# SQLSTATEs of an object that does not exist (relation, function, type, schema, column...).
UNDEFINED = frozenset({"42P01", "42883", "42704", "3F000", "42703", "42P02", "0LP01"})


@dataclass(frozen=True, slots=True)
class Cause:
    """A classified cause of a failed forward migration."""

    kind: CauseKind
    detail: str
    subject: str | None = None  # the missing object, extension, or the failed migration

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail, "subject": self.subject}


def unquote(name: str) -> str:
    return ".".join(part.strip('"') for part in name.split("."))


def last_part(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def schema_of(name: str) -> str | None:
    return name.rsplit(".", 1)[0].lower() if "." in name else None
