"""The pure SQL engine: parse, classify, invert, render. No I/O, no database, no Kubernetes.

The generator's and the history's names load their module on first use (PEP 562): the
rollback Job's `execute` parses and classifies but never generates, and importing the
generator's rule tables cost every Job process about 30 ms of CPU at its start
(bench/operator/bench_job.py). `classify` stays eager: it names a submodule too, and a lazy
name would resolve to the module once anything imported `migration_rollback.sql.classify`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from migration_rollback.sql.classify import classify
from migration_rollback.sql.model import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    Classification,
    Leaves,
    LockLevel,
    ManualItem,
    ManualNeed,
    ObjectRef,
    RollbackStep,
    Script,
    Statement,
    quote_ident,
)
from migration_rollback.sql.parse import parse_script

if TYPE_CHECKING:
    from migration_rollback.sql.generator import (
        RollbackPlan,
        build_history,
        checked_statement,
        generate_rollback,
        render_steps,
    )
    from migration_rollback.sql.history import History

_LAZY = {
    **dict.fromkeys(
        ("RollbackPlan", "build_history", "checked_statement", "generate_rollback",
         "render_steps"),
        "generator",
    ),
    "History": "history",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:  # a submodule (`from migration_rollback.sql import kinds`) or a typo
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MANUAL_PREFIX",
    "NON_TRANSACTIONAL_MARK",
    "Classification",
    "History",
    "Leaves",
    "LockLevel",
    "ManualItem",
    "ManualNeed",
    "ObjectRef",
    "RollbackPlan",
    "RollbackStep",
    "Script",
    "Statement",
    "build_history",
    "checked_statement",
    "classify",
    "generate_rollback",
    "parse_script",
    "quote_ident",
    "render_steps",
]
