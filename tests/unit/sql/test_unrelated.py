"""A rollback statement that destroys what its migration never made is an error (finding A3).

Verification compares catalogs, so the rows a hand-added TRUNCATE removes were invisible to it:
each member of the family (row removal, overwrite, drop, type change, sequence reset) is named
with its line; what the generator writes never is (every case file below is checked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.sql.test_cases import CASES, sections

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.sql.checks import Finding, Severity, unrelated_findings
from migration_rollback.sql.unrelated import ALLOW_UNRELATED_MARK

FORWARD = """
alter table public.items add column note text;
create index items_note_idx on public.items (note);
create table public.tags (id serial primary key, label text);
insert into public.audit (what) values ('tags');
alter type public.kind add value 'b';
do $$ begin
  if not exists (select 1 from pg_indexes where indexname = 'items_made_at_idx') then
    create index items_made_at_idx on public.items (made_at);
  end if;
  update public.ledger set state = 'open' where state is null;
end $$;
"""

FAMILY = {
    "truncate public.items;": "the rows of table items",
    "delete from items;": "the rows of table items",
    "delete from items where id > 10;": "the rows of table items",
    "update items set name = 'x';": "the rows of table items",
    # The migration added rows to audit: deleting those is an undo, emptying it is not.
    "truncate public.audit;": "the rows of table audit",
    "delete from public.audit;": "the rows of table audit",
    "with d as (delete from items returning id) select count(*) from d;": "rows of table items",
    "insert into items (id) values (1) on conflict (id) do update set name = 'x';": "items",
    "merge into items using tags on items.id = tags.id when matched then delete;": "items",
    "drop table public.orders;": "table public.orders",
    "drop view public.report;": "view public.report",
    "drop function public.f();": "function public.f()",
    "drop index public.items_name_idx;": "index public.items_name_idx",
    "alter table items alter column name type int;": "the values of column items.name",
    "alter table items drop column name;": "column items.name",
    "select setval('public.items_id_seq', 1);": "sequence items_id_seq",
    "alter sequence public.items_id_seq restart;": "sequence items_id_seq",
}

RELATED = [
    "drop index public.items_note_idx;",
    "alter table public.items drop column note;",
    "truncate public.tags;",
    "drop table public.tags;",
    "alter sequence public.tags_id_seq restart;",
    "select setval('tags_id_seq', 1);",
    "delete from public.audit where what = 'tags';",
    "alter table public.tags drop column label;",
    "update public.audit set what = null where what = 'tags';",
    # What a DO block's statements made or changed: its undo (the shadow's delta) drops it.
    "drop index public.items_made_at_idx;",
    "update public.ledger set state = null where state = 'open';",
    "insert into items (id) values (1) on conflict (id) do nothing;",
    "with d as (delete from public.audit where what = 'tags' returning 1) select count(*) from d;",
    # An enum value taken back: the type is renamed aside, its columns moved, the old dropped.
    "alter type public.kind rename to kind__old; create type public.kind as enum ('a');"
    " alter table items alter column kind type public.kind using kind::text::public.kind;"
    " drop type public.kind__old;",
]


def _findings(rollback: str, marked: bool = False) -> list[Finding]:
    text = (ALLOW_UNRELATED_MARK + "\n" if marked else "") + rollback
    forward = parse_script(FORWARD, "20250101000000_f.sql")
    return unrelated_findings(forward, parse_script(text, "r.sql"), text, "r.sql")


@pytest.mark.parametrize("statement", sorted(FAMILY))
def test_each_destroying_statement_on_an_older_object_is_an_error(statement: str) -> None:
    [finding] = _findings("select 1;\n" + statement)
    assert finding.code == "UNRELATED"
    assert finding.severity == Severity.ERROR
    assert (finding.file, finding.line) == ("r.sql", 2)
    assert FAMILY[statement] in finding.message
    assert ALLOW_UNRELATED_MARK in finding.message


@pytest.mark.parametrize("statement", RELATED)
def test_what_the_migration_made_may_be_destroyed(statement: str) -> None:
    assert _findings(statement) == []


def test_the_mark_keeps_them_as_warnings() -> None:
    found = _findings("\n".join(FAMILY), marked=True)
    assert len(found) == len(FAMILY)
    assert {f.severity for f in found} == {Severity.WARNING}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_no_generated_rollback_is_flagged(case: Path) -> None:
    parts = sections(case.read_text())
    history = None
    if "history" in parts:
        history = build_history([parse_script(parts["history"], "earlier.sql")])
    forward = parse_script(parts["forward"], f"{case.stem}.sql")
    plan = generate_rollback(forward, case.stem, history)
    text = "".join(f"{s.sql};\n" for s in plan.sql_steps)
    rollback = parse_script(text, "r.sql")
    assert unrelated_findings(forward, rollback, text, "r.sql") == []


def test_rows_the_rollback_writes_itself_do_not_excuse_a_later_delete() -> None:
    [finding] = _findings("insert into items (id) values (1);\ndelete from items;")
    assert finding.line == 2


def test_an_older_type_renamed_aside_is_still_older() -> None:
    text = "alter type public.old_kind rename to old_kind__x;\ndrop type public.old_kind__x;"
    [finding] = _findings(text)  # old_kind is older: renaming it aside is no licence
    assert finding.line == 2
