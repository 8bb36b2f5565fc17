"""Reading and writing the API's JSON as the lifecycle's frozen dataclasses: the shared
spelling rules of `model` (spec) and `status` (camelCase keys, absent keys taking the field
default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING
from typing import Any


def as_map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def present(raw: Mapping[str, Any], keys: Mapping[str, str]) -> dict[str, Any]:
    """The API keys present in `raw`, renamed to attributes: absent ones take the field default."""
    return {attr: raw[key] for key, attr in keys.items() if raw.get(key) is not None}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def field_default(f: Any) -> Any:
    return f.default_factory() if f.default_factory is not MISSING else f.default
