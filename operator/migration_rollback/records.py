"""Frozen records made at the cost of a plain class.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__`, looked
up by name for every field of every instance. The engine makes its most common records by the
tens of thousands per thousand migrations (some 58 `ObjectRef`s a migration): their `__init__`
alone was close to a tenth of `generate` + `validate`. `quick_init` gives such a class an
`__init__` that sets each slot through its own descriptor, two to three times faster; the class
stays the same frozen, slotted dataclass (assignment still raises `FrozenInstanceError`,
equality, hash, repr and `dataclasses.replace` unchanged).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Put above `@dataclass(frozen=True, slots=True)`: only plain fields, every one set by
    `__init__` (no default factory, `InitVar`, keyword-only field or `__post_init__`)."""
    _check(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    scope: dict[str, Any] = {f"_set_{f.name}": getattr(cls, f.name).__set__ for f in fields}
    params = []
    for f in fields:
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields) or "    pass\n"
    # Generated as dataclasses generates its own: a Python-level signature with the defaults
    # bound, so a wrong call fails with the same TypeError a hand-written __init__ gives.
    made: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n{body}", scope, made)  # noqa: S102
    init = made["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    setattr(cls, "__init__", init)  # noqa: B010 (mypy refuses assigning a method)
    return cls


def _check(cls: type) -> None:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__qualname__}: quick_init needs a frozen, slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__}: quick_init cannot run __post_init__")
    fields = dataclasses.fields(cls)
    # The dataclass's own __init__ takes exactly the fields, in order (an InitVar adds one).
    taken = list(inspect.signature(vars(cls)["__init__"]).parameters)[1:]
    if taken != [f.name for f in fields] or any(_special(f) for f in fields):
        raise TypeError(
            f"{cls.__qualname__}: quick_init sets plain fields only (no default factory, "
            "InitVar, keyword-only or init=False field)"
        )


def _special(f: dataclasses.Field[Any]) -> bool:
    return f.default_factory is not dataclasses.MISSING or not f.init or bool(f.kw_only)
