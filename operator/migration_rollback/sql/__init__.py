"""The pure SQL engine: parse, classify, invert, render. No I/O, no database, no Kubernetes."""

from migration_rollback.sql.classify import classify
from migration_rollback.sql.generator import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    RollbackPlan,
    build_history,
    checked_statement,
    generate_rollback,
    render_steps,
)
from migration_rollback.sql.history import History
from migration_rollback.sql.model import (
    Classification,
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

__all__ = [
    "MANUAL_PREFIX",
    "NON_TRANSACTIONAL_MARK",
    "Classification",
    "History",
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
