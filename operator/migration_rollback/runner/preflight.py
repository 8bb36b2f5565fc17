"""Preflight: the other sessions that would block the rollback's locks (read-only).

Run in every run right after the impact (so the rehearsal, while the application still serves,
reports them): sessions holding any lock on a relation the rollback touches, or sitting idle in
a transaction, longer than `min_seconds`. A rollback queued behind one of them for its ACCESS
EXCLUSIVE lock would in turn queue every query of the application. Only the session's pid,
state, age, user, application name and the relations are reported: never its query text,
which may hold data.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.plan import Plan
from migration_rollback.runner.result import BlockingSessionInfo
from migration_rollback.runner.session import Connection
from migration_rollback.sql import kinds

MAX_REPORTED = 10


def relation_names(plan: Plan) -> list[str]:
    """Every relation the rollback's statements touch, as text `to_regclass` reads."""
    names: set[str] = set()
    for planned in plan.all:
        for ref in planned.classification.targets:
            if kinds.names_a_relation(ref.kind):
                names.add(ref.qualified)
            elif kinds.lives_on_a_table(ref.kind) and ref.table:
                names.add(ref.table)
    return sorted(names)


_QUERY = sql.SQL(
    """
    SELECT a.pid, coalesce(a.state, ''),
           extract(epoch FROM clock_timestamp()
                   - coalesce(a.xact_start, a.query_start, clock_timestamp()))::float8,
           a.usename::text, nullif(a.application_name, ''),
           coalesce(array_agg(DISTINCT l.relation::regclass::text)
                    FILTER (WHERE l.relation = ANY(%(oids)s)), '{}')
    FROM pg_stat_activity a
    LEFT JOIN pg_locks l ON l.pid = a.pid
    WHERE a.datname = current_database()
      AND a.pid <> ALL(%(own)s)
      AND a.backend_type = 'client backend'
      AND clock_timestamp() - coalesce(a.xact_start, a.query_start, clock_timestamp())
          >= make_interval(secs => %(min)s)
    GROUP BY a.pid, a.state, a.xact_start, a.query_start, a.usename, a.application_name
    HAVING bool_or(l.relation = ANY(%(oids)s)) OR a.state LIKE 'idle in transaction%%'
    ORDER BY 3 DESC
    LIMIT %(limit)s
    """
)


def blocking_sessions(
    conn: Connection, plan: Plan, own_pids: list[int], min_seconds: float = 1.0
) -> list[BlockingSessionInfo]:
    oids: list[int] = []
    for name in relation_names(plan):
        row = conn.execute("SELECT to_regclass(%s)::oid", [name]).fetchone()
        if row is not None and row[0] is not None:
            oids.append(int(row[0]))
    rows = conn.execute(
        _QUERY,
        {"oids": oids, "own": own_pids, "min": float(min_seconds), "limit": MAX_REPORTED},
    ).fetchall()
    return [
        BlockingSessionInfo(
            pid=int(pid),
            state=str(state),
            seconds=round(float(seconds), 1),
            user=str(user) if user else None,
            application=str(app) if app else None,
            relations=sorted(str(r) for r in relations or ()),
        )
        for pid, state, seconds, user, app, relations in rows
    ]
