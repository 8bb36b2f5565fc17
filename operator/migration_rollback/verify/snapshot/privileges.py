"""Privileges as the model compares them: each `aclitem` decoded into a sorted, readable grant."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from migration_rollback.sql.compose import quote_ident

_PRIVILEGES = {
    "r": "SELECT",
    "w": "UPDATE",
    "a": "INSERT",
    "d": "DELETE",
    "D": "TRUNCATE",
    "x": "REFERENCES",
    "t": "TRIGGER",
    "X": "EXECUTE",
    "U": "USAGE",
    "C": "CREATE",
    "c": "CONNECT",
    "T": "TEMPORARY",
    "s": "SET",
    "A": "ALTER SYSTEM",
    "m": "MAINTAIN",
}


@dataclass(frozen=True, slots=True)
class Grant:
    """One grantee's privileges from one grantor (an `aclitem`, decoded)."""

    grantee: str  # a role name as written by quote_ident, or PUBLIC
    privileges: tuple[str, ...]  # e.g. ("INSERT", "SELECT*"): `*` marks WITH GRANT OPTION
    grantor: str | None = None  # only when it is not the owner

    def render(self) -> str:
        by = f" by {self.grantor}" if self.grantor else ""
        return f"{self.grantee}={','.join(self.privileges)}{by}"

    @classmethod
    def parse(cls, text: str) -> Grant:
        """The inverse of `render`."""
        grantee, _, rest = text.partition("=")
        privileges, _, grantor = rest.partition(" by ")
        return cls(grantee, tuple(privileges.split(",")) if privileges else (), grantor or None)


def _read_name(text: str, pos: int, stop: str) -> tuple[str, int]:
    """A role name as aclitem writes it (double-quoted when it has to be), up to `stop`."""
    if pos < len(text) and text[pos] == '"':
        out: list[str] = []
        pos += 1
        while pos < len(text):
            ch = text[pos]
            if ch == '"':
                if pos + 1 < len(text) and text[pos + 1] == '"':
                    out.append('"')
                    pos += 2
                    continue
                return "".join(out), pos + 1
            out.append(ch)
            pos += 1
        return "".join(out), pos
    end = text.find(stop, pos)
    end = len(text) if end < 0 else end
    return text[pos:end], end


def parse_aclitem(item: str) -> tuple[str, str, str]:
    """`grantee=privs/grantor` → (grantee or "" for PUBLIC, privilege letters, grantor)."""
    grantee, pos = _read_name(item, 0, "=")
    pos += 1  # "="
    slash = item.find("/", pos)
    letters = item[pos:slash] if slash >= 0 else item[pos:]
    grantor = _read_name(item, slash + 1, "\0")[0] if slash >= 0 else ""
    return grantee, letters, grantor


def normalize_acl(items: Iterable[str], owner: str) -> tuple[str, ...]:
    """Sorted `grantee=PRIV,PRIV*[ by grantor]` strings (PRIV* = with grant option)."""
    out: list[str] = []
    for item in items:
        grantee, letters, grantor = parse_aclitem(item)
        privileges: list[str] = []
        for n, ch in enumerate(letters):
            if ch == "*":
                continue
            name = _PRIVILEGES.get(ch, ch)
            grantable = n + 1 < len(letters) and letters[n + 1] == "*"
            privileges.append(name + ("*" if grantable else ""))
        grant = Grant(
            quote_ident(grantee) if grantee else "PUBLIC",
            tuple(sorted(privileges)),
            quote_ident(grantor) if grantor and grantor != owner else None,
        )
        out.append(grant.render())
    return tuple(sorted(out))


@functools.lru_cache(maxsize=4096)
def normalize_acl_cached(items: tuple[str, ...], owner: str) -> tuple[str, ...]:
    return normalize_acl(items, owner)
