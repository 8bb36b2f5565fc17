"""SQL text composed from pieces that know how they are quoted, in the style of psycopg.sql.

The engine is pure (no psycopg), yet every rollback statement names objects a migration
chose: a name is an `Identifier`, a string value a `Literal`, and only the fixed words of a
statement (and SQL the engine already holds as text, such as a deparsed default) are `SQL`.
Templates take `{}` / `{name}` placeholders and never see a raw value, so nothing reaches
the output unquoted by accident.
"""

from __future__ import annotations

import enum
import functools
import re
import string
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

if TYPE_CHECKING:
    from migration_rollback.sql.model import ObjectRef


class Quoting(enum.Enum):
    """Whose rule decides which names need quotes."""

    SERVER = "PostgreSQL's quote_ident(): every keyword but the unreserved ones is quoted"
    # The text the engine must print as pglast's printer would (a flipped GRANT or COMMENT
    # written without it): pglast leaves column-name keywords (`time`, `int`) bare.
    PGLAST = "pglast's printer: reserved and type/function-name keywords are quoted"


# What stays bare: lower-case letters, digits and `_`, and not one of the quoting's keywords.
_PLAIN = re.compile("[a-z_][a-z0-9_]*")
_KEYWORDS: dict[Quoting, frozenset[str]] = {
    Quoting.SERVER: frozenset((*RESERVED_KEYWORDS, *TYPE_FUNC_NAME_KEYWORDS, *COL_NAME_KEYWORDS)),
    Quoting.PGLAST: frozenset((*RESERVED_KEYWORDS, *TYPE_FUNC_NAME_KEYWORDS)),
}


def quote_literal(value: str) -> str:
    """A string literal, as PostgreSQL's quote_literal() writes it for standard strings."""
    return "'" + value.replace("'", "''") + "'"


@functools.lru_cache(maxsize=8192)  # a migration names the same few objects again and again
def quote_ident(name: str, quoting: Quoting = Quoting.SERVER) -> str:
    """Quote an identifier only when PostgreSQL needs it (as its quote_ident() does), or where
    pglast's printer would quote it."""
    if _PLAIN.fullmatch(name) and name not in _KEYWORDS[quoting]:
        return name
    return '"' + name.replace('"', '""') + '"'


class Composable:
    """A piece of SQL text."""

    def as_string(self) -> str:
        raise NotImplementedError

    def __add__(self, other: Composable) -> Composed:
        return Composed((self, other))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Composable) and self.as_string() == other.as_string()

    def __hash__(self) -> int:
        return hash(self.as_string())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.as_string()!r})"


class Composed(Composable):
    """A sequence of pieces, written one after another."""

    def __init__(self, parts: Iterable[Composable]) -> None:
        self.parts = tuple(parts)

    def as_string(self) -> str:
        return "".join([p.as_string() for p in self.parts])  # a list joins faster


_FORMATTER = string.Formatter()


class SQL(Composable):
    """SQL text written as is: keywords, and SQL the engine already holds as text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def as_string(self) -> str:
        return self.text

    def format(self, *args: Composable, **kwargs: Composable) -> Composed:
        """Fill `{}` / `{name}` placeholders with pieces (never with plain strings)."""
        return Composed(_filled(self.text, args, kwargs))

    def join(self, pieces: Iterable[Composable]) -> Composed:
        """The pieces with this text between each two."""
        out: list[Composable] = []
        for piece in pieces:
            if out:
                out.append(self)
            out.append(piece)
        return Composed(out)


def _filled(
    template: str, args: tuple[Composable, ...], kwargs: dict[str, Composable]
) -> list[Composable]:
    """A template's fixed texts with its placeholders' pieces between them, in order."""
    parts: list[Composable] = []
    auto = 0
    for literal, field in _template(template):
        if literal is not None:
            parts.append(literal)
        if field is None:
            continue
        if field == "":
            piece, auto = args[auto], auto + 1
        else:
            piece = args[int(field)] if field.isdigit() else kwargs[field]
        if not isinstance(piece, Composable):
            raise TypeError(f"SQL template {template!r} given {type(piece).__name__}")
        parts.append(piece)
    return parts


@functools.lru_cache(maxsize=1024)  # the engine's templates: a fixed set, parsed once each
def _template(text: str) -> tuple[tuple[SQL | None, str | None], ...]:
    """A template's fixed texts and its placeholders' names, in order."""
    pieces: list[tuple[SQL | None, str | None]] = []
    for literal, field, spec, conversion in _FORMATTER.parse(text):
        if spec or conversion:
            raise ValueError(f"no format spec or conversion in SQL templates: {text}")
        pieces.append((SQL(literal) if literal else None, field))
    return tuple(pieces)


class Identifier(Composable):
    """A name, dotted when qualified, each part quoted only where PostgreSQL needs it."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def as_string(self) -> str:
        return ".".join([quote_ident(n) for n in self.names])


class Literal(Composable):
    """A string constant."""

    def __init__(self, value: str) -> None:
        self.value = value

    def as_string(self) -> str:
        return quote_literal(self.value)


EMPTY = SQL("")


def qualified(schema: str | None, name: str) -> Identifier:
    """`schema.name`, or the bare name when no schema is given."""
    return Identifier(schema, name) if schema else Identifier(name)


def name_of(ref: ObjectRef) -> Identifier:
    """The object's own name, schema-qualified when it has a schema (what `ref.qualified` reads)."""
    return qualified(ref.schema, ref.name)


def arguments(ref: ObjectRef) -> Composable:
    """A function's argument list as written after its name; nothing when not given."""
    return SQL("({})").format(SQL(ref.args)) if ref.args is not None else EMPTY


def sql(template: str, *args: Composable, **kwargs: Composable) -> str:
    """A statement as text: `sql("DROP TABLE {}", name)` (no Composed made only to be read)."""
    return "".join([part.as_string() for part in _filled(template, args, kwargs)])
