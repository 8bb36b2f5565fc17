"""The archive's catalog reads, planned once per session where the same session runs them often.

The verifier archives every table its rollbacks drop, hundreds of times on one session, and
each archive's reads cost more to plan than to run (the catalogs' joins). There they are
server-side prepared statements: PREPAREd with SQL, because psycopg deallocates its own after
any ROLLBACK or DROP, which the verifier issues constantly (verify/catalog.py does the same
for its own reads). That is safe only on a connection where psycopg prepares nothing itself
(`prepare_threshold` None: it then never sends DEALLOCATE ALL), which is how the verifier sets
its session up; elsewhere (`execute`, where each read runs once or twice) a read is sent as
written. The PREPAREs ride in the round trip of the first read that wants them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip

# A placeholder as psycopg writes it: positional `%s` or named `%(name)s`.
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?s")


# Parameters' types are named from pg_catalog: the session's search_path is the migration's,
# which may hold a type of the same name (`create type s.text ...; set search_path = s,
# pg_catalog`), and `'{}'::text[]` would then be s.text[]. Keyword-named types (integer,
# boolean...) are the grammar's own, never looked up.
_KEYWORD_TYPES = frozenset({"integer", "int", "boolean", "bigint", "smallint", "real"})


@functools.cache
def qualified(kind: str) -> str:
    """`kind` (a parameter's SQL type) named so that no search_path changes what it is."""
    base = kind.removesuffix("[]")
    if "." in base or base in _KEYWORD_TYPES:
        return kind
    return f"pg_catalog.{kind}"


@dataclass(frozen=True)
class Read:
    """A catalog read and its parameters' SQL types, in order (named: `(name, type)`;
    positional: `("", type)`)."""

    query: str
    params: tuple[tuple[str, str], ...]

    @functools.cached_property
    def name(self) -> str:
        digest = hashlib.sha1(self.query.encode(), usedforsecurity=False).hexdigest()[:16]
        return f"_mr_archive_{digest}"

    def preparing(self) -> sql.Composed:
        """PREPARE, its placeholders numbered as PostgreSQL's."""
        named = {name: k for k, (name, _) in enumerate(self.params, 1) if name}
        positional = iter(k for k, (name, _) in enumerate(self.params, 1) if not name)
        body = _PLACEHOLDER.sub(
            lambda m: f"${named[m['name']] if m['name'] else next(positional)}", self.query
        )
        types = sql.SQL(", ").join(sql.SQL(qualified(kind)) for _, kind in self.params)
        return sql.SQL("PREPARE {}{} AS {}").format(
            sql.Identifier(self.name), _listed(types, self.params), sql.SQL(body)
        )

    def executing(self, values: Sequence[Any]) -> str:
        return executing(self.name, list(zip(values, (k for _, k in self.params), strict=True)))


def executing(name: str, args: Sequence[tuple[Any, str]]) -> str:
    """EXECUTE with typed literals (`args`: value and SQL type each; a list or tuple is an
    array): a utility statement takes no bound parameters. Sent hundreds of times a replay: it
    is written here, not composed with psycopg.sql (some 0.2 ms a statement)."""
    if not args:
        return _execute(name)  # EXECUTE refuses an empty list
    values = ", ".join(f"{literal(value)}::{qualified(kind)}" for value, kind in args)
    return f"{_execute(name)}({values})"


def literal(value: Any) -> str:
    """`value` as an SQL literal, as sql.Literal quotes it (any standard_conforming_strings):
    text and integers, and arrays of them, here; anything else by psycopg."""
    if isinstance(value, str) and "\0" not in value:
        return _quoted(value)
    if type(value) is int:
        return str(value)
    if isinstance(value, tuple | list) and all(_plain(item) for item in value):
        return _quoted("{" + ",".join(map(_element, value)) + "}")
    return sql.Literal(list(value) if isinstance(value, tuple | list) else value).as_string(None)


def _plain(item: Any) -> bool:
    return type(item) is int or (isinstance(item, str) and "\0" not in item)


def _quoted(text: str) -> str:
    """A string literal: quotes doubled; with a backslash, the E'' form (backslashes doubled),
    which reads the same whatever standard_conforming_strings says."""
    if "\\" in text:
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + text.replace("'", "''") + "'"


def _element(item: int | str) -> str:
    """An array element: a number as it is, a string double-quoted (`"` and backslash escaped)."""
    if isinstance(item, int):
        return str(item)
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.cache
def _execute(name: str) -> str:
    return sql.SQL("EXECUTE {}").format(sql.Identifier(name)).as_string(None)


def _listed(items: sql.Composed, present: Sequence[Any]) -> sql.Composable:
    """`(items)`, or nothing at all: PREPARE and EXECUTE refuse an empty list."""
    return sql.SQL("({})").format(items) if present else sql.SQL("")


_READS: list[Read] = []  # every read of the archive, prepared together


def read(query: str | sql.Composable, *params: tuple[str, str]) -> Read:
    """Declare a read (a query with only pg_catalog names, not depending on the session)."""
    text = query if isinstance(query, str) else query.as_string(None)
    found = Read(text, params)
    _READS.append(found)
    return found


@dataclass
class _Session:
    """The reads prepared on a session, and the PREPAREs sent whose answers were not looked at."""

    done: set[str] = field(default_factory=set)
    sent: dict[str, Fetched] = field(default_factory=dict)

    def settle(self) -> None:
        """Between round trips: a PREPARE whose answer came back is done; one that did not run
        (its trip failed before it) is forgotten, to be sent again."""
        for name, cursor in self.sent.items():
            if cursor.statusmessage == "PREPARE":
                self.done.add(name)
        self.sent.clear()


_sessions: weakref.WeakKeyDictionary[Connection, _Session] = weakref.WeakKeyDictionary()


def prepare(trip: Trip) -> None:
    """First in a round trip of the archive: the PREPAREs this session still needs, if it wants
    them. Until their answers are back (the next trip that calls this), reads run as written."""
    if trip.conn.prepare_threshold is not None:
        return
    session = _sessions.setdefault(trip.conn, _Session())
    session.settle()
    for what in _READS:
        if what.name not in session.done:
            session.sent[what.name] = trip.execute(what.preparing(), prepare=False)


# The reads' parameters are oid arrays of unknown length: costed for such an array, a generic plan
# looks dearer than a custom one for a single table, so `auto` would plan each EXECUTE afresh.
# Generic plans for them (index lookups on the catalogs, the same for one table or ten), the
# session's own settings put back after them, in the same trip; were the trip to fail between
# the two, the failed transaction (or savepoint) undoes the first. Costed for ten tables, a
# generic plan hashed whole catalogs (pg_class, pg_type: 0.3-0.7 ms a read, growing with the
# schema) where a few index probes per table do: the plans are made without hash or merge joins.
# Both are set (and the values saved) local to the transaction (is_local): set for the session,
# the put-back value of a migration's SET LOCAL outlived its transaction. A pipeline outside a
# transaction block is one implicit transaction up to its end, so there they hold as long.
_PLANNING = (
    ("plan_cache_mode", "force_generic_plan"),
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
)


def _saved(name: str) -> str:
    return f"'migration_rollback.archive_{name}'"


_GENERIC = "SELECT " + ", ".join(
    f"pg_catalog.set_config({_saved(name)}, pg_catalog.current_setting('{name}'), true), "
    f"pg_catalog.set_config('{name}', '{value}', true)"
    for name, value in _PLANNING
)
_RESTORE = "SELECT " + ", ".join(
    f"pg_catalog.set_config('{name}', pg_catalog.current_setting({_saved(name)}), true)"
    for name, _ in _PLANNING
)


@contextlib.contextmanager
def generic_plans(trip: Trip) -> Iterator[None]:
    """In the caller's trip, around reads: their EXECUTEs take generic plans (nothing is sent
    where no read is prepared)."""
    session = _sessions.get(trip.conn)
    if session is None or not session.done:
        yield
        return
    trip.execute(_GENERIC, prepare=False)
    try:
        yield
    finally:
        trip.execute(_RESTORE, prepare=False)


def execute(trip: Trip, what: Read, values: Sequence[Any] | Mapping[str, Any]) -> Fetched:
    """Queue a read: EXECUTE where it is prepared, else as written."""
    session = _sessions.get(trip.conn)
    if session is None or what.name not in session.done:
        return trip.execute(what.query, values)
    if isinstance(values, Mapping):
        values = [values[name] for name, _ in what.params]
    return trip.execute(what.executing(values), prepare=False)


def keep_only(conn: Connection, held: set[str]) -> None:
    """The server holds only `held` of the session's prepared statements (a DEALLOCATE ALL or
    DISCARD ALL ran on it): the others are prepared again with the next read that wants them."""
    session = _sessions.get(conn)
    if session is not None:
        session.settle()  # those sent before it ran are gone too
        session.done &= held
