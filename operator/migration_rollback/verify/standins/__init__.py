"""Stand-ins for extensions the shadow server lacks: one SQL file per extension, read here.

A Supabase project creates extensions plain PostgreSQL does not ship (pg_cron, pgsodium,
supabase_vault, pg_graphql, vector...). When the shadow server cannot create one, the replayer
installs its stand-in instead (`install.py`): the extension's public objects (schemas, tables,
views, types, functions with the real signatures and inert bodies), registered as members of a
catalog-level extension of the same name, so that `DROP EXTENSION`, `IF NOT EXISTS` and the
snapshot (which leaves extension members out) behave as with the real one.

Each file starts with a header of `-- key: value` lines:

    -- stand-in: pg_cron            the extension's name (the file is <name>.sql)
    -- version: 1.6                 the version recorded in pg_extension
    -- schema: pg_catalog           where it goes without WITH SCHEMA ("current": the first
                                    schema of the search_path, as for a relocatable extension)
    -- requires: pgcrypto           extensions it needs (CREATE EXTENSION ... CASCADE)
    -- index-methods: hnsw ivfflat  index access methods it would provide (see install.py)
    -- follows: ...                 what the definitions were learned from

and `@extschema@` in the body is the target schema, as in a real extension script.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from migration_rollback.sql.compose import quote_ident

CURRENT_SCHEMA = "current"


@dataclass(frozen=True, slots=True)
class StandIn:
    """One extension's stand-in: its header and its SQL."""

    name: str
    version: str
    schema: str  # a schema name, or CURRENT_SCHEMA
    requires: tuple[str, ...]
    index_methods: tuple[str, ...]
    follows: str
    body: str

    def script(self, schema: str) -> str:
        """The SQL to run, its objects placed in `schema`."""
        return self.body.replace("@extschema@", quote_ident(schema))


def parse_standin(name: str, text: str) -> StandIn:
    """A stand-in from its file's text (the header is the leading `-- key: value` lines)."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        key, sep, value = line[2:].strip().partition(":")
        if sep and key.strip() and " " not in key.strip():
            header.setdefault(key.strip().lower(), value.strip())
    if header.get("stand-in") != name:
        raise ValueError(f"stand-in file {name}.sql names {header.get('stand-in')!r}")
    return StandIn(
        name=name,
        version=header.get("version", "0"),
        schema=header.get("schema", CURRENT_SCHEMA),
        requires=tuple(header.get("requires", "").replace(",", " ").split()),
        index_methods=tuple(header.get("index-methods", "").replace(",", " ").split()),
        follows=header.get("follows", ""),
        body=text,
    )


@functools.cache
def standin_names() -> tuple[str, ...]:
    """Every extension that has a stand-in."""
    files = resources.files(__package__).iterdir()
    return tuple(sorted(f.name[:-4] for f in files if f.name.endswith(".sql")))


@functools.cache
def standin(name: str) -> StandIn | None:
    """The stand-in of an extension, or None when there is none."""
    if name not in standin_names():
        return None
    text = resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return parse_standin(name, text)
