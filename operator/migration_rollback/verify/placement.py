"""Where a missing object stands in the project: created by no migration (not_created), only
by a later one (created_later), by an earlier one and gone since, by code the tool cannot read
(never called not created), or by an extension of a migration that failed. Pure, no I/O.

A project built partly in the dashboard fails many forwards on objects no migration makes; said
as "an error in the migration itself" it sends the reader to the wrong file. What each
migration makes comes from made.py; whether a name is on the shadow at all (a call with other
argument types, a schema off the search_path) from the replayer (`on_shadow`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from migration_rollback.verify.cause import UNDEFINED, Cause, schema_of, unquote
from migration_rollback.verify.made import ProjectNames


@dataclass(frozen=True)
class Placement:
    """Where the failed migration stands in its project: what every migration makes, and
    whether an object of that name is on the shadow at all (`on_shadow(kind, name)`: then a
    call with other argument types, or a schema off the search_path, is the error)."""

    project: ProjectNames
    migration: str
    on_shadow: Callable[[str, str], bool] = lambda _kind, _name: False


_MISSING_OBJECT = re.compile(
    r'^(?P<kind>relation|type|schema|role|sequence|view|table|index) "(?P<name>[^"]+)" '
    r"does not exist"
)
_MISSING_ROUTINE = re.compile(r"^(?P<kind>function|procedure) (?P<name>\S+?)\(.*\) does not exist")
_MISSING_MEMBER = re.compile(
    r'^(?P<kind>column|trigger|policy) "(?P<name>[^"]+)" (?:of|for) (?:relation|table) '
    r'"[^"]+" does not exist'
)
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})


def missing_object(state: str, message: str) -> tuple[str, str] | None:
    """(kind, name) of the one object an undefined-object error is about, when it names one a
    migration could make; None for others (an operator between types, a bare column)."""
    if state not in UNDEFINED:
        return None
    for pattern in (_MISSING_OBJECT, _MISSING_ROUTINE, _MISSING_MEMBER):
        m = pattern.match(message)
        if m:
            name = unquote(m.group("name"))
            return None if schema_of(name) in _SYSTEM_SCHEMAS else (m.group("kind"), name)
    return None


def placed_cause(
    state: str, message: str, placement: Placement, failed: Mapping[str, Iterable[str]]
) -> Cause | None:
    """not_created, created_later, or a migration_error that says what the project makes of
    the missing object (None: no object, or the migration is not in the project); `failed`
    as classify_failure's."""
    found = missing_object(state, message)
    here = placement.project.position(placement.migration)
    if found is None or here is None or placement.on_shadow(*found):
        return None
    project = placement.project
    from_extension = _failed_extension(*found, project, failed)
    from_extension = from_extension or _extension_object(state, *found, here, project)
    return from_extension or _made_where(state, *found, here, project)


_EXTENSION_KINDS = frozenset({"function", "procedure", "type"})
# Well-known routines, types, index access methods and operator classes of extensions
# projects enable in the dashboard (bare, lower case): missing, the advice is the extension,
# not a migration that creates the object, and the replay enables it (dashboard.py).
EXTENSION_OF: Mapping[str, str] = {
    **dict.fromkeys(("uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "uuid_nil"),
                    "uuid-ossp"),
    **dict.fromkeys(("crypt", "gen_salt", "digest", "hmac", "pgp_sym_encrypt",
                     "pgp_sym_decrypt", "gen_random_bytes"), "pgcrypto"),
    **dict.fromkeys(("similarity", "word_similarity", "strict_word_similarity", "show_trgm",
                     "set_limit", "show_limit", "gin_trgm_ops", "gist_trgm_ops"), "pg_trgm"),
    **dict.fromkeys(("vector", "halfvec", "sparsevec", "ivfflat", "hnsw", "vector_l2_ops",
                     "vector_ip_ops", "vector_cosine_ops", "vector_l1_ops", "halfvec_l2_ops",
                     "halfvec_ip_ops", "halfvec_cosine_ops", "cosine_distance", "l2_distance",
                     "inner_product", "vector_dims", "vector_norm", "l2_normalize"), "vector"),
    **dict.fromkeys(("geometry", "geography", "st_makepoint", "st_setsrid", "st_distance",
                     "st_dwithin", "st_point", "st_asgeojson"), "postgis"),
    **dict.fromkeys(("levenshtein", "levenshtein_less_equal", "soundex", "metaphone",
                     "dmetaphone", "daitch_mokotoff"), "fuzzystrmatch"),
    **dict.fromkeys(("earth", "earth_distance", "ll_to_earth", "earth_box"), "earthdistance"),
    **dict.fromkeys(("ltree", "lquery", "ltxtquery", "nlevel", "subltree", "lca"), "ltree"),
    "moddatetime": "moddatetime", "citext": "citext", "hstore": "hstore",
    "unaccent": "unaccent", "cube": "cube",
}  # fmt: skip


def _extension_object(
    state: str, kind: str, name: str, here: int, project: ProjectNames
) -> Cause | None:
    """A well-known routine or type of an extension no statement makes: not created when no
    migration creates the extension, created later when only a later one does."""
    extension = EXTENSION_OF.get(name.rsplit(".", 1)[-1].lower())
    if kind not in _EXTENSION_KINDS or extension is None or project.makers(name):
        return None
    makers = project.makers(extension)
    if any(p <= here for p in makers):
        return _own_error(state, f"{kind} {name} comes from the extension {extension}, which "
                          f"{project.order[makers[0]]} creates: dropped since, or in a schema "
                          "off the search_path?")  # fmt: skip
    if makers:
        return _created_later(kind, name, project.order[makers[0]], f" (extension {extension})")
    return Cause(
        "not_created",
        f"{kind} {name} comes from the extension {extension}, which no migration creates "
        f'(enabled in the dashboard?): add `create extension if not exists "{extension}"` to '
        "a migration before this one",
        name,
    )


def _failed_extension(
    kind: str, name: str, project: ProjectNames, failed: Mapping[str, Iterable[str]]
) -> Cause | None:
    """A routine or type no statement makes, when an earlier migration that failed would have
    created an extension: the extension may be what makes it (its objects are not read)."""
    if kind not in _EXTENSION_KINDS or project.makers(name):
        return None
    for migration, created in failed.items():
        extensions = sorted(project.extensions.intersection(created))
        if extensions:
            return Cause(
                "depends_on",
                f"depends on {migration}, which failed (its extension {extensions[0]} may have "
                f"created {kind} {name})",
                migration,
            )
    return None


def _made_where(state: str, kind: str, name: str, here: int, project: ProjectNames) -> Cause | None:
    makers, unsure = project.makers(name), project.maybe_makers(name)
    before = [p for p in makers if p < here]
    if before:
        return _own_error(state, f"{kind} {name} was created by {project.order[before[-1]]} "
                          "and is gone since (dropped, renamed, moved?)")  # fmt: skip
    if here in makers:
        return None  # made by this very migration, after it is used
    # Code run before it may have made it; a later one only matters when no statement does.
    doubt = [p for p in unsure if p <= here] or ([] if makers else unsure)
    if doubt:
        return _own_error(state, f"no migration's statements create {kind} {name}; code the "
                          f"tool cannot read in {project.order[doubt[0]]} (a DO block, a "
                          "function, a file that does not parse) may")  # fmt: skip
    if makers:
        return _created_later(kind, name, project.order[makers[0]])
    return _not_created(kind, name)


def _own_error(state: str, why: str) -> Cause:
    return Cause("migration_error", f"an error in the migration itself [{state}]: {why}")


def _created_later(kind: str, name: str, later: str, how: str = "") -> Cause:
    return Cause(
        "created_later",
        f"{kind} {name} is created only by a later migration, {later}{how}: the migrations are out "
        "of order (run the one that creates it first), or an earlier version of it was made "
        "outside them",
        later,
    )


def _not_created(kind: str, name: str) -> Cause:
    return Cause(
        "not_created",
        f"{kind} {name} is created by no migration of the project: made outside the "
        "migrations (dashboard, SQL editor)? Add a migration that creates it, or a baseline "
        "dump (`supabase db dump`) as the first migration",
        name,
    )
