"""What a DROP TABLE takes from the live schema goes when the table is archived instead: its
foreign keys, triggers, policies, column defaults and publication membership (read in one
round trip, removed in one more), each with its note."""

from __future__ import annotations

import psycopg

from migration_rollback.runner.archive_detach import detach_from_live_schema

SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE gone (id serial, parent int REFERENCES parent, note text DEFAULT 'x');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER b_touch BEFORE INSERT ON gone FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER a_touch BEFORE UPDATE ON gone FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE gone ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON gone FOR SELECT USING (true);
CREATE PUBLICATION feed FOR TABLE gone;
"""


def test_everything_a_drop_would_take_is_detached_with_its_note(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        oid = conn.execute("SELECT 'gone'::regclass::oid").fetchone()
        assert oid is not None
        conn.execute("BEGIN")
        notes = detach_from_live_schema(conn, [int(oid[0])])
        assert notes == [
            "dropped foreign key gone_parent_fkey of archived public.gone (to public.parent)",
            "dropped trigger a_touch of archived public.gone",
            "dropped trigger b_touch of archived public.gone",
            "dropped policy readers of archived public.gone",
            "removed archived public.gone from publication feed",
        ]
        left = conn.execute(
            "SELECT (SELECT count(*) FROM pg_constraint WHERE conrelid = 'gone'::regclass "
            "AND contype = 'f'), (SELECT count(*) FROM pg_trigger WHERE tgrelid = "
            "'gone'::regclass), (SELECT count(*) FROM pg_policy), (SELECT count(*) FROM "
            "pg_attrdef WHERE adrelid = 'gone'::regclass), (SELECT count(*) FROM "
            "pg_publication_rel)"
        ).fetchone()
        assert left == (0, 0, 0, 0, 0)
        conn.execute("ROLLBACK")
