"""A migration's script may turn `quote_all_identifiers` on for its session: the catalog reads
must not follow it. With it on, every name the server deparses came out quoted (`"public"."t"`),
so the snapshot after the rollback named every object differently from the one before, and the
full read's comments (keyed by the quoted catalog name) were all lost: a sound rollback was
judged a mismatch. The rollback script sets it here: the forward's settings are reset (RESET
ALL) before the rollback runs, while the rollback's last until the reads that judge it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import verify_project

pytestmark = pytest.mark.integration

BASE = """
create table public.t (id int primary key, body text);
comment on table public.t is 'the table';
create function public.f() returns int language sql return 1;
comment on function public.f() is 'a function';
"""


def test_a_rollback_quoting_every_identifier_is_still_verified(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("base", BASE, None),
            (
                "quoting",
                "set quote_all_identifiers = on; alter table public.t add column extra int;",
                "set quote_all_identifiers = on; alter table public.t drop column extra;",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results)[-1] == "verified", explain(results)
