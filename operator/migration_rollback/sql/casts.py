"""The USING expression that turns a column back into its previous type.

`ALTER COLUMN c TYPE boolean USING c::boolean` fails when the column is now `smallint`
(PostgreSQL has an int4 -> bool cast, no int2 -> bool one: "cannot cast type smallint to
boolean"). Every type has an explicit cast to and from text (its input/output functions), so
when no direct cast is known the value goes through its text form: `c::text::boolean`. A direct
cast is kept where pg_cast has one, since going through text can fail where it succeeds
(`1.5::numeric::integer` rounds, `'1.5'::integer` is an error). A scalar going back into an
array (`USING (ids[1])` undone) becomes a one-element array.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

from migration_rollback.sql.compose import SQL, Composable


class Family(enum.StrEnum):
    """Built-in types grouped by the casts pg_cast has between them."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # numeric, real, double precision
    BOOLEAN = "boolean"
    DATE_TIME = "date/time"
    TIME = "time of day"
    JSON = "json"


_F = Family
FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        "text": _F.STRING, "character varying": _F.STRING, "character": _F.STRING,
        "name": _F.STRING, "citext": _F.STRING,
        "smallint": _F.INTEGER, "integer": _F.INTEGER, "bigint": _F.INTEGER,
        "numeric": _F.NUMBER, "real": _F.NUMBER, "double precision": _F.NUMBER,
        "boolean": _F.BOOLEAN,
        "date": _F.DATE_TIME, "timestamp without time zone": _F.DATE_TIME,
        "timestamp with time zone": _F.DATE_TIME,
        "time without time zone": _F.TIME, "time with time zone": _F.TIME, "interval": _F.TIME,
        "json": _F.JSON, "jsonb": _F.JSON,
    }
)  # fmt: skip

# (from, to) families with a direct cast for every member pair; plus single pairs below.
_DIRECT_FAMILIES: frozenset[tuple[Family, Family]] = frozenset(
    {
        (_F.INTEGER, _F.INTEGER), (_F.INTEGER, _F.NUMBER), (_F.NUMBER, _F.INTEGER),
        (_F.NUMBER, _F.NUMBER), (_F.DATE_TIME, _F.DATE_TIME), (_F.JSON, _F.JSON),
        (_F.BOOLEAN, _F.BOOLEAN),
    }
)  # fmt: skip
_DIRECT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("integer", "boolean"), ("boolean", "integer"),
        ("time without time zone", "time with time zone"),
        ("time with time zone", "time without time zone"),
        ("interval", "time without time zone"), ("time without time zone", "interval"),
        ("timestamp without time zone", "time without time zone"),
        ("timestamp with time zone", "time with time zone"),
    }
)  # fmt: skip

_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint",
        "serial": "integer", "bigserial": "bigint", "smallserial": "smallint",
        "float8": "double precision", "float4": "real", "float": "double precision",
        "bool": "boolean", "varchar": "character varying", "char": "character",
        "bpchar": "character", "timestamptz": "timestamp with time zone",
        "timestamp": "timestamp without time zone", "timetz": "time with time zone",
        "time": "time without time zone", "decimal": "numeric",
    }
)  # fmt: skip
_TYPMOD = re.compile(r"\s*\([^)]*\)")


def base_type(type_text: str) -> str:
    """A type's name without schema, modifiers or quotes, aliases resolved: `character
    varying` for `pg_catalog.varchar(20)`; `[]` kept for arrays."""
    text = type_text.strip().lower().replace('"', "")
    array = text.endswith("[]")
    text = _TYPMOD.sub("", text.removesuffix("[]")).strip()
    text = text.removeprefix("pg_catalog.")
    text = _ALIASES.get(text, text)
    return text + ("[]" if array else "")


def has_direct_cast(current: str, target: str) -> bool:
    """Whether `value::target` works for a value of type `current` (built-ins known here)."""
    a, b = base_type(current), base_type(target)
    if a == b:
        return True
    if a.endswith("[]") != b.endswith("[]"):
        return False
    a, b = a.removesuffix("[]"), b.removesuffix("[]")
    fa, fb = FAMILIES.get(a), FAMILIES.get(b)
    if Family.STRING in (fa, fb):
        return True  # input/output conversion casts: every type to and from text
    if (a, b) in _DIRECT_PAIRS:
        return True
    return fa is not None and fb is not None and (fa, fb) in _DIRECT_FAMILIES


def cast_back(column: Composable, current: str | None, target: str) -> Composable:
    """The USING expression for `ALTER COLUMN column TYPE target`; `current` None: unknown,
    so through text. Types are SQL the engine holds as text (deparsed type names)."""
    if current is not None and has_direct_cast(current, target):
        return SQL("{}::{}").format(column, SQL(target))
    to_array = target.strip().endswith("[]")
    if current is not None and to_array and not base_type(current).endswith("[]"):
        # A scalar back into an array (it was taken out of one): a one-element array; a scalar
        # has no cast to any array type, not even through text.
        element = target.strip().removesuffix("[]")
        return SQL("ARRAY[{}]").format(cast_back(column, current, element))
    via = SQL("text[]" if to_array else "text")
    return SQL("{}::{}::{}").format(column, via, SQL(target))


def using(column: str, current: str | None, target: str) -> str:
    """`cast_back` for a caller that holds the column as quoted SQL text."""
    return cast_back(SQL(column), current, target).as_string()
