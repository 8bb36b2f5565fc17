"""History's indexes over its definitions stay in step with them (what is on a relation, a
routine's overloads): renames, drops and redefinitions keep both."""

from __future__ import annotations

from migration_rollback.sql import build_history, parse_script
from migration_rollback.sql.history import History
from migration_rollback.sql.model import ObjectRef


def _history(text: str) -> History:
    return build_history([parse_script(text, "earlier.sql")])


def _on(history: History, table: str) -> list[str]:
    return [d.ref.name for d in history.on("public", table)]


def test_what_is_on_a_relation_follows_its_rename_and_drop() -> None:
    history = _history(
        "create table public.t (id int, c text);"
        "create index t_c on public.t (c);"
        "create policy p on public.t using (true);"
        "create trigger tr before update on public.t for each row execute function public.f();"
    )
    assert _on(history, "t") == ["t_c", "p", "tr"]
    history.observe(parse_script("alter table public.t rename to u;").statements[0])
    assert set(_on(history, "u")) >= {"p", "tr"}
    assert "p" not in _on(history, "t")
    history.forget(ObjectRef("table", "u", "public"))
    assert not {"p", "tr"} & set(_on(history, "u"))


def test_a_routine_named_without_arguments_is_its_only_overload() -> None:
    history = _history("create function public.f(a int) returns int language sql as 'select 1';")
    bare = ObjectRef("function", "f", "public")
    assert history.identity(bare).args == "integer"
    history.observe(
        parse_script(
            "create function public.f(a text) returns int language sql as 'select 1';"
        ).statements[0]
    )
    assert history.identity(bare) == bare  # two overloads: not one to choose
    history.forget(ObjectRef("function", "f", "public", args="text"))
    assert history.identity(bare).args == "integer"
    assert history.copy().overloads == history.overloads
