"""Property tests: whatever the migration, the generator neither crashes nor writes bad SQL."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.sql.model import quote_ident

# Names a real schema can have: plain, mixed case, reserved words, spaces, quotes, unicode.
names = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
    st.sampled_from(["user", "select", "Order", "my table", 'we"ird', "naïve", "x" * 70]),
)

TEMPLATES = [
    "create table {s}.{a} (id bigint primary key, {b} text not null default 'x')",
    "create index on {s}.{a} ({b})",
    "create index concurrently {c} on {s}.{a} (lower({b}))",
    "create unique index {c} on {s}.{a} ({b}) where {b} is not null",
    "alter table {s}.{a} add column {b} int",
    "alter table {s}.{a} add constraint {c} check ({b} > 0)",
    "alter table {s}.{a} alter column {b} type bigint",
    "alter table {s}.{a} alter column {b} set default 1",
    "alter table {s}.{a} enable row level security",
    "alter table {s}.{a} rename column {b} to {c}",
    "alter table {s}.{a} rename to {c}",
    "alter table {s}.{a} set schema {c}",
    "create view {s}.{a} as select 1 as {b}",
    "create or replace view {s}.{a} as select 1 as {b}",
    "create function {s}.{a}({b} int, out r text) returns text language sql as $$ select 'x' $$",
    "create or replace function {s}.{a}() returns int language sql as $$ select 1 $$",
    "create trigger {c} after insert on {s}.{a} for each row execute function {s}.{b}()",
    "create policy {c} on {s}.{a} for select to authenticated using (true)",
    "create type {s}.{a} as enum ('x', 'y')",
    "alter type {s}.{a} add value 'z'",
    "alter type {s}.{a} rename value 'x' to 'w'",
    "create domain {s}.{a} as text",
    "create sequence {s}.{a}",
    "create schema if not exists {a}",
    "create extension if not exists {a}",
    "grant select on {s}.{a} to {b}",
    "revoke insert on {s}.{a} from {b}",
    "comment on table {s}.{a} is 'about {b}'",
    "comment on column {s}.{a}.{b} is null",
    "insert into {s}.{a} (id, {b}) values (1, 'v'), (2, 'w')",
    "update {s}.{a} set {b} = 2",
    "delete from {s}.{a}",
    "drop table if exists {s}.{a}",
    "drop index {s}.{c}",
    "drop function {s}.{a}(int)",
    "alter publication supabase_realtime add table {s}.{a}",
    "do $$ begin perform 1; end $$",
    "set search_path = {s}",
]


@st.composite
def migrations(draw: st.DrawFn) -> str:
    count = draw(st.integers(min_value=1, max_value=12))
    lines = []
    for _ in range(count):
        template = draw(st.sampled_from(TEMPLATES))
        idents = {k: quote_ident(draw(names)) for k in "sabc"}
        lines.append(template.format(**idents) + ";")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(earlier=migrations(), forward=migrations())
def test_generator_never_crashes_and_emits_parseable_sql(earlier: str, forward: str) -> None:
    history = build_history([parse_script(earlier, "earlier.sql")])
    plan = generate_rollback(parse_script(forward, "forward.sql"), "m", history)
    # The safety belt already re-parsed each statement; the whole body must parse too.
    body = parse_script(plan.render_body(), "rollback.sql")
    assert len(body.statements) == len(plan.sql_steps)
    assert all(step.sql or step.manual or step.notes for step in plan.steps)
