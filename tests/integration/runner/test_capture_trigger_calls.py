"""Triggers that call user functions (real PostgreSQL): read, followed, never trusted by label.

dustatron's profiles shape: `NEW.username_slug = generate_username_slug(NEW.username)`, the
function a plain (VOLATILE) PL/pgSQL one that only computes. Its code writes nothing, so the
trigger changes only its row: captured, and `execute` puts the rows back exactly. A called
function that writes an audit row, one that reaches a writer through another function, and a
cycle stay MANUAL with the function named. The last tests show why the volatility label is not
proof: PostgreSQL refuses a write in a STABLE function's own statements, but lets a STABLE
function call a VOLATILE one that writes.
"""

from __future__ import annotations

import psycopg
import pytest
from capture_support import apply, generate, rows, write
from runner_support import Project

pytestmark = pytest.mark.integration

PROFILES = """
CREATE TABLE public.profiles (id bigint PRIMARY KEY, username text, username_slug text);
CREATE TABLE public.audit (id bigserial PRIMARY KEY, what text);
CREATE FUNCTION public.slug_part(s text) RETURNS text LANGUAGE sql AS
  $$ SELECT lower(regexp_replace($1, '\\s+', '-', 'g')) $$;
CREATE FUNCTION public.generate_username_slug(wanted text) RETURNS text AS $$
DECLARE taken int;
BEGIN
  SELECT count(*) INTO taken FROM public.profiles WHERE username_slug = wanted;
  RETURN public.slug_part(regexp_replace(wanted, '[^a-zA-Z0-9\\s-]', '', 'g'));
END $$ LANGUAGE plpgsql;
CREATE FUNCTION public.audited_slug(username text) RETURNS text AS $$
BEGIN
  INSERT INTO public.audit (what) VALUES (username);
  RETURN lower(username);
END $$ LANGUAGE plpgsql;
CREATE FUNCTION public.indirect_slug(username text) RETURNS text LANGUAGE sql AS
  $$ SELECT public.audited_slug($1) $$;
CREATE FUNCTION public.atomic_slug(username text) RETURNS text LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO public.audit (what) VALUES (username);
  SELECT lower(username);
END;
CREATE FUNCTION public.ping(n int) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RETURN public.pong(n); END $$;
CREATE FUNCTION public.pong(n int) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN IF n > 0 THEN RETURN public.ping(n - 1); END IF; RETURN 'x'; END $$;
"""
TRIGGER = """
CREATE FUNCTION public.update_username_slug() RETURNS trigger AS $$
BEGIN
  NEW.username_slug = {call};
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER update_profiles_username_slug BEFORE INSERT OR UPDATE OF username
  ON public.profiles FOR EACH ROW EXECUTE FUNCTION public.update_username_slug();
"""
SEED = """
INSERT INTO public.profiles VALUES (1, 'Ada L', 'kept-as-seeded'), (2, 'Bo', NULL);
"""
FORWARD = "UPDATE public.profiles SET username = username || ' Jr' WHERE id = 1;"


def _base(project: Project, call: str) -> None:
    write(project, "20250101000000_base", PROFILES + TRIGGER.format(call=call))
    assert apply(project)[0] == 0
    project.sql("ALTER TABLE public.profiles DISABLE TRIGGER USER")
    project.sql(SEED)  # a slug the trigger would not compute: only an exact restore keeps it
    project.sql("ALTER TABLE public.profiles ENABLE TRIGGER USER")
    write(project, "20250102000000_change", FORWARD)


def test_trigger_calling_a_computing_function_is_restored_exactly(project: Project) -> None:
    _base(project, "generate_username_slug(NEW.username)")
    before = rows(project, "public.profiles")

    code, doc, out = apply(project)

    assert code == 0, out
    assert {c["status"] for c in doc["applied"][0]["captures"]} == {"captured"}, doc
    assert rows(project, "public.profiles")[0][2] == "ada-l-jr"  # the trigger did run
    generate(project)
    run = project.execute("20250102000000_change")
    assert run.returncode == 0, run.stdout + run.stderr
    assert rows(project, "public.profiles") == before


@pytest.mark.parametrize(
    ("call", "named"),
    [
        ("public.audited_slug(NEW.username)", "audited_slug()"),
        ("public.indirect_slug(NEW.username)", "audited_slug()"),  # reached through sql
        ("public.ping(3)", "cycle"),
        # a SQL-standard body: prosrc is empty, the INSERT is in prosqlbody
        ("public.atomic_slug(NEW.username)", "atomic_slug is not readable"),
    ],
)
def test_trigger_calling_a_function_that_may_write_stays_manual(
    project: Project, call: str, named: str
) -> None:
    _base(project, call)

    code, doc, out = apply(project)

    assert code == 0, out
    (capture,) = [c for c in doc["applied"][0]["captures"] if c["kind"] != "sequence"]
    assert capture["status"] == "manual", doc
    assert "trigger update_profiles_username_slug" in capture["reason"]
    assert named in capture["reason"], capture["reason"]


STABLE_WRITER = """
CREATE TABLE public.audit (id bigserial PRIMARY KEY, what text);
CREATE FUNCTION public.write_audit(t text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.audit (what) VALUES (t); RETURN t; END $$;
CREATE FUNCTION public.stable_direct(t text) RETURNS text LANGUAGE plpgsql STABLE AS
  $$ BEGIN INSERT INTO public.audit (what) VALUES (t); RETURN t; END $$;
CREATE FUNCTION public.stable_indirect(t text) RETURNS text LANGUAGE plpgsql STABLE AS
  $$ BEGIN RETURN public.write_audit(t); END $$;
"""


def test_a_stable_function_refuses_its_own_writes(project: Project) -> None:
    project.sql(STABLE_WRITER)
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="non-volatile function"):
        project.sql("SELECT public.stable_direct('a')")
    assert project.value("SELECT count(*) FROM public.audit") == 0


def test_a_stable_function_still_writes_through_a_volatile_one(project: Project) -> None:
    """So STABLE is no proof: the code of what it calls is read instead."""
    project.sql(STABLE_WRITER)
    assert project.sql("SELECT public.stable_indirect('b')") == [("b",)]
    assert project.sql("SELECT what FROM public.audit") == [("b",)]
