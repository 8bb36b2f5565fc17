"""Archiving detaches by name, so the names that break naive quoting (a quote, a dot, upper
case, non-ASCII) must reach PostgreSQL intact; partitioned tables and a table in two
publications are detached once each, and what a DROP would not take on its own (a policy of
another table reading the archived one) is left and listed, not dropped silently."""

from __future__ import annotations

import psycopg

from migration_rollback.runner.archive_detach import detach_from_live_schema, remaining_dependents

SCHEMA = """
CREATE SCHEMA "Sch.ema";
CREATE TABLE "Sch.ema"."Pa""rent" (id int PRIMARY KEY);
CREATE TABLE "Sch.ema"."Tä.ble""x" (id int, p int, "Nöte" text DEFAULT 'x')
  PARTITION BY RANGE (id);
CREATE TABLE "Sch.ema"."Part""1" PARTITION OF "Sch.ema"."Tä.ble""x" FOR VALUES FROM (0) TO (10);
ALTER TABLE "Sch.ema"."Tä.ble""x" ADD CONSTRAINT "Fk.""p" FOREIGN KEY (p)
  REFERENCES "Sch.ema"."Pa""rent";
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "Trg.""x" BEFORE INSERT ON "Sch.ema"."Tä.ble""x"
  FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER "Own""trg" BEFORE UPDATE ON "Sch.ema"."Part""1"
  FOR EACH ROW EXECUTE FUNCTION touch();
CREATE POLICY "Pol.""y" ON "Sch.ema"."Tä.ble""x" USING (true);
CREATE PUBLICATION "Pub.""a" FOR TABLE "Sch.ema"."Part""1";
CREATE PUBLICATION "pub b" FOR TABLE "Sch.ema"."Part""1";
CREATE TABLE other (id int);
CREATE POLICY "reads it" ON other USING (EXISTS (SELECT 1 FROM "Sch.ema"."Part""1"));
"""


def _members(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    rows = conn.execute(
        """SELECT oid::int FROM pg_class WHERE relname IN ('Tä.ble"x', 'Part"1') ORDER BY 1"""
    ).fetchall()
    return [int(r[0]) for r in rows]


def test_hard_names_partitions_and_two_publications_are_detached(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        members = _members(conn)
        conn.execute("BEGIN")
        notes = detach_from_live_schema(conn, members)
        assert sorted(notes) == sorted(
            [
                'dropped foreign key Fk."p of archived Sch.ema.Tä.ble"x (to Sch.ema.Pa"rent)',
                'dropped trigger Trg."x of archived Sch.ema.Tä.ble"x',
                'dropped trigger Own"trg of archived Sch.ema.Part"1',
                'dropped policy Pol."y of archived Sch.ema.Tä.ble"x',
                'removed archived Sch.ema.Part"1 from publication Pub."a',
                'removed archived Sch.ema.Part"1 from publication pub b',
            ]
        )
        left = conn.execute(
            "SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f'), "
            "(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal), "
            "(SELECT count(*) FROM pg_policy WHERE polrelid <> 'other'::regclass), "
            "(SELECT count(*) FROM pg_attrdef), (SELECT count(*) FROM pg_publication_rel)"
        ).fetchone()
        assert left == (0, 0, 0, 0, 0)
        # The other table's policy is not the archived table's: kept, and named.
        assert remaining_dependents(conn, members) == ["policy reads it on table other"]
        conn.execute("ROLLBACK")


PUBLISHED_WHOLESALE = """
CREATE SCHEMA shop;
CREATE TABLE shop.gone (id int);
CREATE PUBLICATION everything FOR ALL TABLES;
CREATE PUBLICATION "shop's" FOR TABLES IN SCHEMA shop;
"""


def test_publications_that_name_no_table_are_named_in_the_notes(database_url: str) -> None:
    """FOR ALL TABLES keeps publishing the archived table (it cannot be dropped from it), and
    moving it out of a FOR TABLES IN SCHEMA schema removes it from that one: both are said."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(PUBLISHED_WHOLESALE)
        oid = conn.execute("SELECT 'shop.gone'::regclass::oid::int").fetchone()
        assert oid is not None
        conn.execute("BEGIN")
        notes = detach_from_live_schema(conn, [int(oid[0])])
        assert notes == [
            "archived shop.gone stays in publication everything (FOR ALL TABLES: every "
            "table is published, the archive's too)",
            "removed archived shop.gone from publication shop's (it publishes schema shop, "
            "not the archive)",
        ]
        conn.execute("ROLLBACK")
