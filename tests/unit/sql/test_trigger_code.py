"""Which trigger functions change only the row they fire for (read, not run)."""

from __future__ import annotations

import pytest

from migration_rollback.sql.trigger_code import only_row_changes


@pytest.mark.parametrize(
    "body",
    [
        "BEGIN NEW.updated_at := now(); RETURN NEW; END",
        "BEGIN new.updated_at = timezone('utc', now()); RETURN new; END",
        "BEGIN IF TG_OP = 'UPDATE' THEN NEW.version := OLD.version + 1; END IF; RETURN NEW; END",
        "DECLARE v int := 2; BEGIN v := v + 1; NEW.n := coalesce(NEW.n, v); RETURN NEW; END",
        "BEGIN CASE WHEN NEW.x IS NULL THEN NEW.x := lower(NEW.name); ELSE NULL; END CASE;"
        " RETURN NEW; END",
        # Hasura's stamp trigger: a local copy of NEW, stamped and returned
        'DECLARE _new record; BEGIN _new := NEW; _new."updated_at" = NOW(); RETURN _new; END',
    ],
)
def test_assignments_to_new_only_change_the_row(body: str) -> None:
    assert only_row_changes(body) is None


@pytest.mark.parametrize(
    ("body", "language", "why"),
    [
        ("BEGIN INSERT INTO audit VALUES (1); RETURN NEW; END", "plpgsql", "execsql"),
        ("BEGIN PERFORM pg_notify('c', 'x'); RETURN NEW; END", "plpgsql", "perform"),
        ("BEGIN NEW.x := public.next_code(); RETURN NEW; END", "plpgsql", "next_code()"),
        ("BEGIN EXECUTE 'UPDATE t SET a = 1'; RETURN NEW; END", "plpgsql", "dynexecute"),
        ("BEGIN OLD.x := 1; RETURN NEW; END", "plpgsql", "assigns OLD"),
        ("BEGIN FOR i IN 1..2 LOOP NEW.x := i; END LOOP; RETURN NEW; END", "plpgsql", "fori"),
        ("BEGIN NEW.x := 1", "plpgsql", "does not parse"),
        ("SELECT 1", "sql", "sql"),
    ],
)
def test_anything_else_may_write_other_rows(body: str, language: str, why: str) -> None:
    found = only_row_changes(body, language)
    assert found is not None
    assert why in found
