"""A command's plain command line read without typer's runtime coercion (the Job's start cost).

Typer 0.29 checks every option's value through a pydantic TypeAdapter it builds when the
command runs: importing pydantic and building the adapters was about 0.13 s of CPU in every
rollback Job's `migration-rollback execute` (half its start-up), paid on the rollback's
critical path while the application is down, 20 times over when 20 roll back at once.

This reads only the plain shape the operator writes (kube/jobs.py job_args): `--name value`,
`--name=value`, known flags, at most the command's positional arguments, once each. Names,
defaults, environment variables and types come from the command's own signature (the typer
declarations: one source of truth). Anything else (help, a short option, `--`, an unknown or
repeated name, a value typer would check beyond its type, an enum value it would reject) gives
None: typer then parses the line and says what is wrong, exactly as before.
"""

from __future__ import annotations

import enum
import inspect
import os
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.models import ArgumentInfo, OptionInfo, ParameterInfo

# What a value may be converted to here; any other type leaves the line to typer.
_PLAIN = (str, Path, bool)
# Typer's checks beyond the type: a parameter that asks for any of these is typer's to read.
_CHECKS = (
    "callback", "parser", "exists", "resolve_path", "min", "max", "prompt", "is_eager",
    "default_factory",
)  # fmt: skip
_TYPERS = object()  # a value only typer can judge


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    kind: type
    info: ParameterInfo
    default: Any


def plain_call(command: Callable[..., Any], argv: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments typer would call `command` with for `argv`, or None (typer's)."""
    params = _params(command)
    if params is None:
        return None
    given = _split(argv, params)
    if given is None:
        return None
    values: dict[str, Any] = {}
    for p in params:
        value = _value(p, given.get(p.name))
        if value is _TYPERS:
            return None
        values[p.name] = value
    return values


def _params(command: Callable[..., Any]) -> list[_Param] | None:
    hints = typing.get_type_hints(command, include_extras=True)
    out = []
    for name, sig in inspect.signature(command).parameters.items():
        kind, info = _declared(hints[name])
        if kind is None or info is None or any(getattr(info, c, None) for c in _CHECKS):
            return None
        if not info.expose_value:
            return None
        out.append(_Param(name, kind, info, sig.default))
    return out


def _declared(hint: Any) -> tuple[type | None, ParameterInfo | None]:
    """The plain type under Annotated[...] (and `| None`) and typer's declaration."""
    args = typing.get_args(hint)
    info = next((a for a in args[1:] if isinstance(a, ParameterInfo)), None)
    base = args[0] if args else hint
    if isinstance(base, types.UnionType):
        rest = [t for t in typing.get_args(base) if t is not type(None)]
        base = rest[0] if len(rest) == 1 else None
    plain = isinstance(base, type) and (issubclass(base, enum.Enum) or base in _PLAIN)
    return (base if plain else None), info


def _split(argv: Sequence[str], params: list[_Param]) -> dict[str, str | bool] | None:
    """Option and argument texts by parameter name; None when the line is not plain."""
    by_flag = {d: p for p in params if isinstance(p.info, OptionInfo) for d in _decls(p)}
    positional = [p for p in params if isinstance(p.info, ArgumentInfo)]
    given: dict[str, str | bool] = {}
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("-"):
            if not positional or positional[0].name in given:
                return None
            given[positional.pop(0).name] = token
            continue
        flag, eq, inline = token.partition("=")
        p = by_flag.get(flag)
        if p is None or p.name in given:
            return None
        if p.kind is bool:
            if eq:
                return None
            given[p.name] = True
        elif eq:
            given[p.name] = inline
        elif tokens and not tokens[0].startswith("-"):
            given[p.name] = tokens.pop(0)
        else:
            return None
    return given


def _decls(p: _Param) -> list[str]:
    # In Annotated[..., typer.Option("--name", ...)] typer reads a text default as the first name.
    first = (p.info.default,) if isinstance(p.info.default, str) else ()
    every = (*first, *(p.info.param_decls or ()))
    decls = [d for d in every if d.startswith("--") and "/" not in d]
    if p.kind is bool and len(decls) != len(every):
        return []  # a --x/--no-x pair or a short flag: typer's
    return decls


def _value(p: _Param, given: str | bool | None) -> Any:
    if given is None:
        given = _from_env(p)
        if given is None:
            return _TYPERS if p.default is inspect.Parameter.empty else p.default
    if isinstance(given, bool) or given is _TYPERS:
        return given
    if issubclass(p.kind, enum.Enum):
        try:
            return p.kind(given)
        except ValueError:
            return _TYPERS
    return Path(given) if p.kind is Path else given


def _from_env(p: _Param) -> Any:
    """The option's environment variable when set; an empty or a list of them is typer's."""
    envvar = p.info.envvar
    if envvar is None:
        return None
    if not isinstance(envvar, str):
        return _TYPERS
    value = os.environ.get(envvar)
    return _TYPERS if value == "" else value
