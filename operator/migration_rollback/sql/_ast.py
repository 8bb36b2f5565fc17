"""pglast's parse-tree classes, seen by the type checker as dynamic; which attributes of a class
can hold a subtree; nodes made from parts of parsed trees.

pglast annotates every node field as Optional although the grammar guarantees most of them
(a CreateStmt always has a relation); checking against those annotations would mean a None
test per field access. Importing the module through this alias keeps strict typing everywhere
else while parse-tree access stays readable.
"""

import enum
import functools
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

import pglast.ast as _pglast_ast

ast: Any = _pglast_ast

_BRANCH_SLOTS: dict[type, tuple[str, ...]] = {}
_LEAF_TYPES = (bool, int, float, str, bytes, Decimal, enum.Enum)


def branch_slots(cls: type) -> tuple[str, ...]:
    """The attributes of a node class that may hold nodes or tuples, in declaration order.

    pglast checks every assignment against the attribute's declared Python types, so an
    attribute declared as a string, a number or an enum never holds a subtree: walks skip it
    (most attributes of a parse tree are locations, flags and names).
    """
    found = _BRANCH_SLOTS.get(cls)
    if found is not None:
        return found
    declarations: Any = getattr(cls, "__slots__", {})  # pglast: {name: SlotTypeInfo}
    names = []
    for name in declarations:  # what iterating a node yields: its attribute names
        info = declarations[name] if isinstance(declarations, dict) else None
        declared = getattr(info, "py_type", object)
        types = declared if isinstance(declared, tuple) else (declared,)
        leaf_only = all(
            isinstance(t, type) and (t is dict or issubclass(t, _LEAF_TYPES)) for t in types
        )
        if not leaf_only:
            names.append(name)
    _BRANCH_SLOTS[cls] = found = tuple(names)
    return found


def make(cls: type, **fields: Any) -> Any:
    """`cls(**fields)` (the fields not given: None) without pglast checking and coercing each
    value on assignment: parts of parsed trees already are what it would make of them, and a
    rule's flipped GRANT or COMMENT cost more in those checks than in printing it."""
    build = _BUILDERS.get(cls) or builder(cls)
    try:
        return build(**fields)
    except TypeError:
        unknown = ", ".join(sorted(set(fields) - set(getattr(cls, "__slots__"))))  # noqa: B009
        raise TypeError(f"{cls.__name__} has no field {unknown}") from None


_BUILDERS: dict[type, Callable[..., Any]] = {}


def changed(node: Any, **fields: Any) -> Any:
    """A copy of a parsed node with `fields` replaced, built as `make` builds one: copy.copy
    went through pickling's protocol and pglast's checked assignments, most of what the
    history spent on a table's column constraints."""
    cls: type = type(node)
    read, where = _SLOTS.get(cls) or _slots(cls)
    values = list(read(node))
    for name, value in fields.items():
        values[where[name]] = value
    return builder(cls)(*values)


def _slots(cls: type) -> tuple[Callable[[Any], tuple[Any, ...]], dict[str, int]]:
    names = tuple(getattr(cls, "__slots__"))  # noqa: B009 (pglast: name -> its type)
    _SLOTS[cls] = found = (fields_getter(names), {n: i for i, n in enumerate(names)})
    return found


_SLOTS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], dict[str, int]]] = {}


def builder(cls: type) -> Callable[..., Any]:
    """One class's node built by straight-line code taking its fields, in slot order (as
    pglast's parser passes them) or by name (as `make` does), None by default (Python itself
    refuses an unknown one), made as the class's `twin`: a loop over the slots cost more than
    the assignments, and the rules make thousands of small nodes, the parser all of them."""
    found = _BUILDERS.get(cls)
    if found is not None:
        return found
    names = tuple(getattr(cls, "__slots__"))  # noqa: B009 (pglast: name -> its type)
    # The code's own names start with "_mr_", which no slot name does (one is called "node").
    env: dict[str, Any] = {"_mr_twin": twin(cls), "_mr_cls": cls}
    params = ", ".join(f"{name}=None" for name in names)
    code = [f"def build({params}):", " _mr_node = _mr_twin()"]
    code += [f" _mr_node.{name} = {name}" for name in names]
    code += [" _mr_node.__class__ = _mr_cls", " return _mr_node"]
    exec("\n".join(code), env)  # noqa: S102 (slot names from pglast's declarations)
    made: Callable[..., Any] = env["build"]
    _BUILDERS[cls] = made
    return made


@functools.cache
def twin(cls: type) -> type:
    """A subclass of a node class adding no slot, with Python's plain attribute assignment:
    its instances are laid out as the class's, so one becomes a node of the class itself by
    assigning `__class__`, once its slots are filled in.

    pglast's `__setattr__` checks and coerces every value (what the C parser, or the part of a
    parsed tree a rule reuses, already guarantees); a plain assignment to a slot is a single
    interpreter step where setting it through the slot's descriptor is a call. Calling the
    twin, which keeps `object`'s own `__init__`, also costs less than `object.__new__(cls)`.
    """
    namespace = {"__slots__": (), "__setattr__": object.__setattr__, "__init__": object.__init__}
    return type(cls.__name__, (cls,), namespace)


def fields_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The values of these attributes as a tuple, read by one C call (`operator.attrgetter`
    returns one value bare)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda node: (one(node),)
    return lambda node: ()
