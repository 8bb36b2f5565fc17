"""quick_init: the same frozen dataclass, made faster; refused where it cannot be the same."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, ClassVar

import pytest

from migration_rollback.records import quick_init
from migration_rollback.sql.model import ObjectRef


@dataclass(frozen=True, slots=True)
class _Plain:
    kind: str
    name: str
    schema: str | None = None
    node: Any = field(default=None, compare=False)
    shared: ClassVar[int] = 3


_Quick = quick_init(
    dataclass(frozen=True, slots=True)(
        type("_Quick", (), {"__annotations__": dict(_Plain.__annotations__), "schema": None,
                            "node": field(default=None, compare=False), "shared": 3})
    )
)  # fmt: skip


def _both(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    return _Plain(*args, **kwargs), _Quick(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("t", "n"), {}), (("t",), {"name": "n", "node": 1}), ((), {"kind": "t", "name": "n",
     "schema": "s"}), (("t", "n", "s", [1]), {})],
)  # fmt: skip
def test_made_the_same_as_the_dataclass_makes_it(args: tuple[Any, ...], kwargs: Any) -> None:
    plain, quick = _both(*args, **kwargs)
    assert dataclasses.astuple(quick) == dataclasses.astuple(plain)
    assert repr(quick).replace("_Quick", "") == repr(plain).replace("_Plain", "")


def test_equality_and_hash_ignore_what_the_dataclass_ignores() -> None:
    assert _Quick("t", "n", node=1) == _Quick("t", "n", node=2)
    assert hash(_Quick("t", "n", "s")) == hash(_Quick("t", "n", "s"))
    assert _Quick("t", "n", "s") != _Quick("t", "n", "x")


def test_still_frozen() -> None:
    quick = _Quick("t", "n")
    with pytest.raises(FrozenInstanceError):
        quick.name = "m"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "kwargs", "says"),
    [((), {}, "missing"), (("t", "n", "s", 1, 2), {}, "positional"),
     (("t", "n"), {"nope": 1}, "unexpected"), (("t",), {"kind": "u", "name": "n"}, "multiple")],
)  # fmt: skip
def test_a_wrong_call_fails_as_the_dataclass_fails(
    args: tuple[Any, ...], kwargs: Any, says: str
) -> None:
    for cls in (_Plain, _Quick):
        with pytest.raises(TypeError, match=says):
            cls(*args, **kwargs)


def test_the_engine_records_keep_replace_and_copy() -> None:
    ref = ObjectRef("table", "t", "public")
    assert dataclasses.replace(ref, name="u") == ObjectRef("table", "u", "public")
    assert copy.deepcopy(ref) == ref
    assert ObjectRef.__init__.__qualname__ == "ObjectRef.__init__"


def _refused(**options: Any) -> type:
    namespace: dict[str, Any] = {"__annotations__": {"a": "int"}}
    namespace.update(options.pop("namespace", {}))
    return dataclass(**{"frozen": True, "slots": True, **options})(type("_R", (), namespace))


@pytest.mark.parametrize(
    "cls",
    [
        _refused(frozen=False),
        _refused(slots=False),
        _refused(namespace={"a": field(default_factory=int)}),
        _refused(namespace={"a": field(default=0, init=False)}),
        _refused(kw_only=True),
        _refused(namespace={"__post_init__": lambda self: None}),
        _refused(namespace={"__annotations__": {"a": "int", "b": "dataclasses.InitVar[int]"}}),
    ],
    ids=["not frozen", "no slots", "factory", "not in init", "keyword only", "post init",
         "InitVar"],
)  # fmt: skip
def test_refused_where_it_would_not_be_the_same(cls: type) -> None:
    with pytest.raises(TypeError, match="quick_init"):
        quick_init(cls)
