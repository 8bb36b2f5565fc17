"""Which trigger functions change only the row they fire for (read, not run)."""

from __future__ import annotations

import pytest

from migration_rollback.sql.trigger_code import assigned_fields, only_row_changes


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
        "BEGIN FOR i IN 1..2 LOOP NEW.x := i; END LOOP; RETURN NEW; END",
        # guards that read to decide (moonklabs/sprintable): SELECT ... INTO, PERFORM, loops
        "DECLARE _type text; BEGIN SELECT type INTO _type FROM public.team_members"
        " WHERE id = NEW.agent_id; IF _type IS NULL OR _type != 'agent' THEN"
        " RAISE EXCEPTION 'not an agent'; END IF; RETURN NEW; END",
        "BEGIN PERFORM 1 FROM public.orgs WHERE id = NEW.org_id FOR SHARE;"
        " IF NOT FOUND THEN RAISE EXCEPTION 'no org'; END IF; RETURN NEW; END",
        "DECLARE r record; BEGIN FOR r IN SELECT n FROM public.t LOOP NEW.n := r.n; END LOOP;"
        " RETURN NEW; END",
        "BEGIN SELECT count(*) INTO NEW.n FROM public.t WHERE t.x = NEW.x; RETURN NEW; END",
        "BEGIN IF current_setting('app.role', true) <> 'admin' THEN RAISE EXCEPTION 'no';"
        " END IF; RETURN NEW; END",
    ],
)
def test_assignments_to_new_only_change_the_row(body: str) -> None:
    assert only_row_changes(body) is None


@pytest.mark.parametrize(
    ("body", "language", "why"),
    [
        ("BEGIN INSERT INTO audit VALUES (1); RETURN NEW; END", "plpgsql", "runs INSERT"),
        ("BEGIN PERFORM pg_notify('c', 'x'); RETURN NEW; END", "plpgsql", "pg_notify()"),
        ("BEGIN PERFORM nextval('s'); RETURN NEW; END", "plpgsql", "nextval()"),
        (
            "DECLARE n int; BEGIN WITH d AS (DELETE FROM t RETURNING 1)"
            " SELECT count(*) INTO n FROM d; RETURN NEW; END",
            "plpgsql",
            "runs DELETE",
        ),
        (
            "DECLARE r record; BEGIN UPDATE t SET a = 1 RETURNING a INTO r; RETURN NEW; END",
            "plpgsql",
            "runs UPDATE",
        ),
        ("BEGIN CREATE TABLE x (a int); RETURN NEW; END", "plpgsql", "CreateStmt"),
        ("BEGIN SELECT * INTO OLD FROM t; RETURN NEW; END", "plpgsql", "assigns OLD"),
        ("BEGIN SELECT 1 INTO OLD.x; RETURN NEW; END", "plpgsql", "assigns OLD"),
        (
            "DECLARE r record; BEGIN FOR r IN EXECUTE 'SELECT 1' LOOP END LOOP; RETURN NEW; END",
            "plpgsql",
            "dynfors",
        ),
        ("BEGIN CALL public.p(); RETURN NEW; END", "plpgsql", "call"),
        ("BEGIN NEW.x := public.next_code(); RETURN NEW; END", "plpgsql", "next_code()"),
        ("BEGIN EXECUTE 'UPDATE t SET a = 1'; RETURN NEW; END", "plpgsql", "dynexecute"),
        ("BEGIN OLD.x := 1; RETURN NEW; END", "plpgsql", "assigns OLD"),
        ("BEGIN NEW.x := 1", "plpgsql", "does not parse"),
        ("SELECT 1", "sql", "sql"),
    ],
)
def test_anything_else_may_write_other_rows(body: str, language: str, why: str) -> None:
    found = only_row_changes(body, language)
    assert found is not None
    assert why in found


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("BEGIN NEW.email := lower(NEW.email); RETURN NEW; END", {"email"}),
        # the same through SELECT ... INTO: the upsert's conflict column changes too
        ("BEGIN SELECT lower(NEW.email) INTO NEW.email; RETURN NEW; END", {"email"}),
        ("DECLARE a int; BEGIN SELECT 1, 2 INTO a, NEW.b; NEW.c := 1; RETURN NEW; END", {"b", "c"}),
        ("BEGIN SELECT * INTO NEW FROM public.t LIMIT 1; RETURN NEW; END", None),
        ("BEGIN NEW := OLD; RETURN NEW; END", None),
    ],
)
def test_the_fields_of_new_a_trigger_assigns(body: str, fields: set[str] | None) -> None:
    found = assigned_fields(body)
    assert (None if found is None else set(found)) == fields


@pytest.mark.parametrize(
    ("symbol", "language", "library", "row_only"),
    [
        ("moddatetime", "c", "$libdir/moddatetime", True),  # the dashboard's updated_at
        ("insert_username", "c", "$libdir/insert_username", True),
        ("tsvector_update_trigger_byid", "internal", None, True),
        ("suppress_redundant_updates_trigger", "internal", None, True),
        ("autoinc", "c", "$libdir/autoinc", False),  # advances a sequence
        ("moddatetime", "c", "$libdir/my_own", False),  # another library's symbol
        ("moddatetime", "plpgsql", None, False),  # not the extension's
    ],
)
def test_c_trigger_functions_known_to_change_only_the_row(
    symbol: str, language: str, library: str | None, row_only: bool
) -> None:
    found = only_row_changes(symbol, language, library=library)
    assert (found is None) == row_only, found
