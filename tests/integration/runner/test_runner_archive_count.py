"""The archive's row count, pipelined: a count cut short by statement_timeout costs the run
nothing but the number (rolled back to its savepoint, the transaction goes on)."""

from __future__ import annotations

import psycopg

from migration_rollback.runner.archive import count_rows


def test_a_cancelled_count_gives_the_estimate_and_the_transaction_goes_on(
    database_url: str,
) -> None:
    with (
        psycopg.connect(database_url, autocommit=True) as holder,
        psycopg.connect(database_url, autocommit=True) as conn,
    ):
        holder.execute("CREATE TABLE counted (id int)")
        holder.execute("CREATE TABLE counted_child () INHERITS (counted)")
        row = conn.execute("SELECT 'counted'::regclass::oid, reltuples::bigint FROM pg_class "
                           "WHERE oid = 'counted'::regclass").fetchone()  # fmt: skip
        assert row is not None
        oid, estimate = int(row[0]), int(row[1])
        holder.execute("BEGIN")
        # count(*) of the parent must read the child: it waits for this lock until the timeout.
        holder.execute("LOCK TABLE counted_child IN ACCESS EXCLUSIVE MODE")
        conn.execute("BEGIN")
        conn.execute("SET LOCAL statement_timeout = '300ms'")
        assert count_rows(conn, oid) == (estimate if estimate >= 0 else None)
        assert conn.execute("SELECT 1").fetchone() == (1,)  # not aborted
        conn.execute("ROLLBACK")
        holder.execute("ROLLBACK")
        conn.execute("INSERT INTO counted_child VALUES (1), (2)")
        conn.execute("BEGIN")
        assert count_rows(conn, oid) == 2  # and counted exactly when it can be
        conn.execute("ROLLBACK")
