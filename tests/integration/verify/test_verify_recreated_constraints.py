"""A constraint dropped and recreated from an earlier migration's text matches the catalog.

Two ways it had not, on real projects: a constraint added NOT VALID and then validated came
back NOT VALID (the history kept the text as added, not the VALIDATE after it); a CHECK that
says `now() AT TIME ZONE 'UTC'` came back as `timezone('UTC'::text, now())` (pglast prints
SQL-syntax calls as plain calls, which PostgreSQL stores and shows as such). And the undo of
validating a constraint an earlier migration added NOT VALID leaves it NOT VALID again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import build_history, parse_script
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

EARLIER = """
create table public.t (id int, seen timestamptz, name text, parent int);
alter table public.t add constraint t_id_key unique (id);
alter table public.t add constraint t_name_ok check (name ~ '^[a-z]+$') not valid;
alter table public.t validate constraint t_name_ok;
alter table public.t add constraint t_parent_fkey foreign key (parent) references public.t (id)
  on delete set null not valid;
alter table public.t validate constraint t_parent_fkey;
alter table public.t add constraint t_seen_past
  check (seen <= now() at time zone 'UTC' and substring(name from 1 for 1) <> trim(' x '));
alter table public.t add constraint t_name_short check (length(name) < 40) not valid;
alter table public.t add constraint t_id_pos check (id > 0) not valid;
"""
FORWARD = """
alter table public.t validate constraint t_id_pos;
alter table public.t drop constraint t_name_ok, drop constraint t_parent_fkey;
alter table public.t drop constraint t_seen_past, drop constraint t_name_short;
"""


def test_recreated_constraints_restore_the_catalog(tmp_path: Path, shadow_url: str) -> None:
    history = build_history([parse_script(EARLIER, "earlier.sql")])
    rollback = generate_rollback(parse_script(FORWARD, "f.sql"), "f", history).render_body()
    assert "AT TIME ZONE" in rollback
    pairs = write_project(tmp_path, [("earlier", EARLIER, None), ("forward", FORWARD, rollback)])
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results)[-1] == "verified", explain(run.results) + "\n" + rollback
