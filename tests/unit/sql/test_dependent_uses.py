"""Which objects and columns a definition uses: read from its tree, names schema-qualified."""

from __future__ import annotations

import pytest

from migration_rollback.sql import build_history, parse_script
from migration_rollback.sql.history import Definition
from migration_rollback.sql.rules.dependent_uses import index_columns, uses_column, uses_object


def _defined(text: str, search_path: str = "public") -> Definition:
    statement = parse_script(text, "earlier.sql").statements[0]
    history = build_history([parse_script(text, "earlier.sql")])
    (definition,) = [d for d in history.definitions.values() if d.statement.text == statement.text]
    return Definition(definition.ref, definition.statement, search_path=search_path)


def test_a_call_is_matched_by_its_schema_not_its_bare_name() -> None:
    trigger = _defined("create trigger t before update on audit.log for each row "
                       "execute function audit.touch();")  # fmt: skip
    assert uses_object(trigger, "audit", "touch")
    assert not uses_object(trigger, "public", "touch")


@pytest.mark.parametrize(("path", "schema"), [("public", "public"), ("app, public", "app")])
def test_an_unqualified_name_is_in_the_schema_it_was_written_under(path: str, schema: str) -> None:
    policy = _defined("create policy p on items using (is_admin());", path)
    assert uses_object(policy, schema, "is_admin")
    assert uses_object(policy, schema, "items")
    assert not uses_object(policy, "other", "is_admin")


def test_a_regclass_literal_names_its_relation() -> None:
    view = _defined("create view public.v as select nextval('public.s') as n;")
    assert uses_object(view, "public", "s")


def test_index_columns_are_its_column_references_not_its_strings() -> None:
    index = _defined("create index i on public.t (status, lower(name)) include (x) "
                     "where status <> 'email';")  # fmt: skip
    assert index_columns(index.tree) == {"status", "name", "x"}


def test_a_view_uses_a_column_of_its_table_only() -> None:
    view = _defined("create view public.v as select o.email, i.id from public.items i "
                    "join public.other o on o.id = i.id;")  # fmt: skip
    assert uses_column(view, "public", "items", "id")
    assert not uses_column(view, "public", "items", "email")  # o.email is other's
    assert not uses_column(view, "public", "elsewhere", "id")


def test_a_star_uses_every_column_and_a_trigger_its_update_of_list() -> None:
    view = _defined("create view public.v as select * from public.items;")
    trigger = _defined("create trigger t before update of email on public.items for each row "
                       "execute function public.f();")  # fmt: skip
    assert uses_column(view, "public", "items", "anything")
    assert uses_column(trigger, "public", "items", "email")
    assert not uses_column(trigger, "public", "items", "status")
