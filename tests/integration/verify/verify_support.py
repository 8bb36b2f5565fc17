"""Helpers for the verifier's integration tests: small Supabase-style projects on disk."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from migration_rollback.verify import (
    GeneratedRollback,
    MigrationPair,
    VerifyResult,
    capture,
    catalog,
    generate_verified,
)
from migration_rollback.verify.baseline import load_baseline


def write_project(
    root: Path, migrations: Sequence[tuple[str, str, str | None]]
) -> list[MigrationPair]:
    """Write `<version>_<name>.sql` (and `_rollback.sql` when given) files; return the pairs."""
    directory = root / "supabase" / "migrations"
    directory.mkdir(parents=True, exist_ok=True)
    pairs: list[MigrationPair] = []
    for n, (title, forward, rollback) in enumerate(migrations, start=1):
        name = f"2025010100{n:04d}_{title}"
        forward_path = directory / f"{name}.sql"
        forward_path.write_text(forward, encoding="utf-8")
        rollback_path = None
        if rollback is not None:
            rollback_path = directory / f"{name}_rollback.sql"
            rollback_path.write_text(rollback, encoding="utf-8")
        pairs.append(MigrationPair(name, forward_path, rollback_path))
    return pairs


def statuses(results: Sequence[VerifyResult]) -> list[str]:
    return [r.status for r in results]


def explain(results: Sequence[VerifyResult]) -> str:
    return "\n".join(r.report() for r in results)


def generate_replays(
    root: Path, base: str, migrations: Sequence[tuple[str, str]], shadow_url: str
) -> dict[str, GeneratedRollback]:
    """`generate --verify` over a base migration and the named ones, by name."""
    pairs = write_project(
        root, [("base", base, None), *((name, sql, None) for name, sql in migrations)]
    )
    out = generate_verified(pairs, shadow_url)
    return {g.migration.split("_", 1)[1]: g for g in out}


def assert_verified(g: GeneratedRollback) -> None:
    """Verified, and nothing left for a human."""
    assert g.result.status == "verified", g.result.report() + "\n" + (g.sql_body or "")
    assert not g.still_manual, g.still_manual


def body_of(generated: dict[str, GeneratedRollback], case: str) -> str:
    body = generated[case].sql_body
    assert body is not None
    return body


@contextmanager
def capturing_database(pg_server: Any, name: str, schema: str) -> Iterator[psycopg.Connection[Any]]:
    """A database with the baseline and `schema`, and a session with the change capture
    installed and the catalog reads prepared (as a shadow session has them); dropped after."""
    name = pg_server.create_database(name)
    try:
        with psycopg.connect(pg_server.url_for(name), autocommit=True) as c:
            load_baseline(c)
            c.execute(schema)
        with psycopg.connect(pg_server.url_for(name), autocommit=True, prepare_threshold=None) as c:
            assert capture.install(c)
            catalog.prepare_connection(c)
            yield c
    finally:
        pg_server.drop_database(name)
