"""Differences between two schema models: (object, attribute, before, after). Pure, no I/O.

`before` is the schema before the migration, `after` what the round trip left. An object only
in `before` is reported once with attribute "exists" (before True, after False), one only in
`after` likewise (False, True); otherwise each attribute that differs is one difference.
Rendering folds the objects that belong to an added or removed parent (a dropped table's
columns) into one line, so a report reads like a review comment rather than a dump.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from migration_rollback.redact import clip
from migration_rollback.redact_sql import sql_excerpt
from migration_rollback.verify.deparse_fixpoint import canonical
from migration_rollback.verify.snapshot import ObjectId, SnapshotObject, Value

EXISTS = "exists"


@dataclass(frozen=True, slots=True)
class Difference:
    """One way in which the schema after the round trip is not the schema before it."""

    object: ObjectId
    attribute: str
    before: Value
    after: Value
    parent: ObjectId | None = None

    @property
    def added(self) -> bool:
        return self.attribute == EXISTS and self.after is True

    @property
    def removed(self) -> bool:
        return self.attribute == EXISTS and self.before is True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "object": str(self.object),
            "kind": self.object.kind,
            "name": self.object.name,
            "attribute": self.attribute,
            "before": _jsonable(self.before),
            "after": _jsonable(self.after),
        }
        if self.parent is not None:
            out["parent"] = str(self.parent)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Difference:
        parent = None
        if data.get("parent"):
            kind, _, name = str(data["parent"]).partition(" ")
            parent = ObjectId(kind, name)
        return cls(
            ObjectId(str(data["kind"]), str(data["name"])),
            str(data["attribute"]),
            _from_jsonable(data.get("before")),
            _from_jsonable(data.get("after")),
            parent,
        )

    def describe(self) -> str:
        if self.removed:
            return f"{self.object}: missing after the rollback (it existed before the migration)"
        if self.added:
            return f"{self.object}: left behind by the rollback (it did not exist before)"
        return (
            f"{self.object}: {self.attribute} was {_short(self.before)}, "
            f"is {_short(self.after)} after the rollback"
        )


def _jsonable(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _from_jsonable(value: Any) -> Value:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def diff_objects(
    before: Mapping[ObjectId, SnapshotObject],
    after: Mapping[ObjectId, SnapshotObject],
    *,
    ignore: Iterable[str] = (),
) -> list[Difference]:
    """All differences, sorted by object; attributes named in `ignore` are not compared."""
    skip = frozenset(ignore)
    out: list[Difference] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            out.append(Difference(key, EXISTS, False, True, new.parent))
        elif new is None and old is not None:
            out.append(Difference(key, EXISTS, True, False, old.parent))
        elif old is not None and new is not None:
            for attr in sorted(set(old.attrs) | set(new.attrs)):
                if attr in skip:
                    continue
                a, b = old.attrs.get(attr), new.attrs.get(attr)
                if a != b and not _same_definition(attr, a, b):
                    out.append(Difference(key, attr, a, b, new.parent))
    return out


def _same_definition(attr: str, a: Value, b: Value) -> bool:
    """Two spellings PostgreSQL prints for one expression (see deparse_fixpoint)."""
    if attr != "definition" or not isinstance(a, str) or not isinstance(b, str):
        return False
    return canonical(a) == canonical(b)


def _short(value: Value, limit: int = 120) -> str:
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        text = "[" + ", ".join(value) + "]"
    elif isinstance(value, str):
        text = repr(value) if "\n" not in value else repr(value.strip().splitlines()[0] + " ...")
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    # A definition (a function's, a server's options) may hold a credential: masked, then cut
    # as redact knows, so a secret cut in two stays masked.
    return clip(sql_excerpt(text), limit)


def _text_diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1
    )
    # A definition (a function's, a server's options) may hold a credential: masked.
    return [sql_excerpt(line) for line in lines if not line.startswith(("---", "+++"))]


def render(differences: Sequence[Difference], *, indent: str = "  ") -> str:
    """A readable report: `-` missing after the rollback, `+` left behind, `~` changed.

    An object whose parent is itself missing or left behind is folded into its parent's line
    (a dropped table's columns, constraints and indexes are one line, with a count).
    """
    if not differences:
        return f"{indent}no differences"
    whole = {d.object for d in differences if d.attribute == EXISTS}
    folded: dict[ObjectId, int] = {}
    for d in differences:
        if d.parent is not None and d.parent in whole:
            folded[d.parent] = folded.get(d.parent, 0) + (1 if d.attribute == EXISTS else 0)
    lines: list[str] = []
    for d in differences:
        if d.parent is not None and d.parent in whole:
            continue
        if d.removed or d.added:
            what = (
                "existed before the migration, missing after the rollback"
                if d.removed
                else "did not exist before the migration, left by the rollback"
            )
            lines.append(f"{indent}{'-' if d.removed else '+'} {d.object} ({what})")
            if folded.get(d.object):
                lines.append(f"{indent}{indent}and {folded[d.object]} object(s) that belong to it")
        elif (
            isinstance(d.before, str)
            and isinstance(d.after, str)
            and ("\n" in d.before or "\n" in d.after)
        ):
            lines.append(f"{indent}~ {d.object}: {d.attribute} differs:")
            lines.extend(f"{indent}{indent}{line}" for line in _text_diff(d.before, d.after))
        else:
            lines.append(
                f"{indent}~ {d.object}: {d.attribute}: "
                f"{_short(d.before)} before, {_short(d.after)} after"
            )
    return "\n".join(lines)


def summarize(differences: Sequence[Difference]) -> str:
    """One line: how many objects differ and how."""
    objects = {d.object for d in differences}
    added = sum(1 for d in differences if d.added)
    removed = sum(1 for d in differences if d.removed)
    changed = len({d.object for d in differences if d.attribute != EXISTS})
    return (
        f"{len(objects)} object(s) differ: {removed} missing, {added} left behind, "
        f"{changed} changed"
    )
