"""A rollback that leaves a foreign key unenforced is not verified.

A foreign key is enforced by internal triggers on both of its tables; ALTER TABLE ... DISABLE
TRIGGER ALL turns them off, and ENABLE TRIGGER USER (a natural-looking rollback) turns only the
user's back on. The key stays in the catalog, unchecked. The relation kind names such triggers
(relation_kinds.py, "constraint triggers"): found by an adversarial pass, verified before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import MigrationPair, run_verification

pytestmark = pytest.mark.integration

BASE = (
    "create table public.p (id int primary key);\n"
    "create table public.t (id int, p int constraint t_p_fk references public.p);\n"
)
DROP_BASE = "drop table public.t;\ndrop table public.p;\n"


def _project(tmp_path: Path, table: str, rollback: str) -> list[MigrationPair]:
    """The base, then a migration turning every trigger of `table` off, undone by `rollback`."""
    return write_project(
        tmp_path,
        [
            ("base", BASE, DROP_BASE),
            (
                "off",
                f"alter table public.{table} disable trigger all;\n",
                f"alter table public.{table} {rollback};\n",
            ),
        ],
    )


@pytest.mark.parametrize("table", ["t", "p"])
@pytest.mark.parametrize("incremental", [True, False], ids=["scoped", "full"])
def test_triggers_of_a_foreign_key_left_disabled_are_a_mismatch(
    tmp_path: Path, shadow_url: str, table: str, incremental: bool
) -> None:
    pairs = _project(tmp_path, table, "enable trigger user")

    results = run_verification(pairs, shadow_url, jobs=1, incremental=incremental).results

    assert statuses(results) == ["verified", "mismatch"], explain(results)
    assert "t_p_fk disabled" in results[1].report(), explain(results)


def test_triggers_turned_back_on_verify(tmp_path: Path, shadow_url: str) -> None:
    pairs = _project(tmp_path, "t", "enable trigger all")

    results = run_verification(pairs, shadow_url, jobs=1).results

    assert statuses(results) == ["verified", "verified"], explain(results)
