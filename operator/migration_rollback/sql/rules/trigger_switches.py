"""ENABLE / DISABLE TRIGGER ALL or USER: every trigger of a table switched at once.

The undo switches the same triggers back: a DISABLE is undone by the ENABLE of the same
scope, which is exact where every one of them fired before; an ENABLE after this migration's
own DISABLE, by the DISABLE. Where earlier migrations left one of the table's triggers
switched otherwise, or an ENABLE comes without a DISABLE here (which were off before is not
said), a human decides.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql.model import ManualNeed
from migration_rollback.sql.rules.context import Inverse, Subcommand, manual, nothing
from migration_rollback.sql.settings import Fires

# Each switch of every trigger and the one switching the same triggers back.
BACK: dict[AT, AT] = {
    AT.AT_DisableTrigAll: AT.AT_EnableTrigAll,
    AT.AT_DisableTrigUser: AT.AT_EnableTrigUser,
    AT.AT_EnableTrigAll: AT.AT_DisableTrigAll,
    AT.AT_EnableTrigUser: AT.AT_DisableTrigUser,
}
_DISABLES = frozenset({AT.AT_DisableTrigAll, AT.AT_DisableTrigUser})


def every_trigger(sub: Subcommand) -> Iterator[Inverse]:
    subtype = sub.cmd.subtype
    table = (sub.schema, sub.rel.name)
    earlier = sub.ctx.triggers_switched.get(table)  # this migration's last such switch
    sub.ctx.triggers_switched[table] = subtype
    scope = "every" if subtype in (AT.AT_DisableTrigAll, AT.AT_EnableTrigAll) else "every user"
    where = f"{scope} trigger of {sub.rel.qualified}"
    off = _off_before(sub)
    if sub.table_is_new or sub.ctx.created_here.has_name(sub.rel):
        yield nothing(f"{sub.rel.qualified} is new in this migration")
    elif subtype not in _DISABLES and earlier in _DISABLES:
        # Off before it: what both switched (a DISABLE USER left the others firing).
        back = BACK[subtype] if earlier is AT.AT_DisableTrigAll else AT.AT_DisableTrigUser
        yield sub.undo(back, notes=(f"{where} was disabled by this migration before",))
    elif subtype not in _DISABLES:
        yield _by_hand(sub, f"{where} was enabled and which were disabled before is not said")
    elif off:
        yield _by_hand(sub, f"{where} was disabled; earlier migrations left {', '.join(off)} "
                       "not firing as usual")  # fmt: skip
    else:
        note = f"{where} fired before (no migration switched one of them otherwise)"
        yield sub.undo(BACK[subtype], notes=(note,))


def _off_before(sub: Subcommand) -> list[str]:
    """The table's triggers that earlier migrations left other than enabled (origin)."""
    key = sub.ctx.table_before(sub.schema, sub.rel.name)
    history = sub.ctx.history
    switches = {} if history is None or key is None else history.triggers.get(key, {})
    return sorted(name for name, fires in switches.items() if fires is not Fires.ORIGIN)


def _by_hand(sub: Subcommand, why: str) -> Inverse:
    return manual(ManualNeed.UNSUPPORTED, f"{why}: switch them back by hand", sub.rel)
