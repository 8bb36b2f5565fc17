"""Reading the model: the full snapshot (staged, so the client's work overlaps the server's) and
the scoped read (only the families a migration touched), both turning rows into objects."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from migration_rollback.verify import catalog
from migration_rollback.verify.batch import Fetched
from migration_rollback.verify.snapshot.kinds import kinds_for
from migration_rollback.verify.snapshot.objects import (
    ObjectId,
    Snapshot,
    SnapshotObject,
    Value,
    identity,
    make_object,
)
from migration_rollback.verify.snapshot.privileges import normalize_acl_cached
from migration_rollback.verify.snapshot.query import Kind


@dataclass(frozen=True)
class Scope:
    """Which part of the schema a scoped read covers (OIDs of families, whole small kinds)."""

    rels: frozenset[int] = frozenset()
    funcs: frozenset[int] = frozenset()
    types: frozenset[int] = frozenset()
    groups: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.rels or self.funcs or self.types or self.groups)

    def covers(self, family: str) -> bool:
        kind, _, oid = family.partition(":")
        if not oid:
            return kind in self.groups
        number = int(oid)
        if kind == "rel":
            return number in self.rels
        if kind == "func":
            return number in self.funcs
        if kind == "type":
            return number in self.types
        return False

    def union(self, other: Scope) -> Scope:
        return Scope(
            self.rels | other.rels,
            self.funcs | other.funcs,
            self.types | other.types,
            self.groups | other.groups,
        )

    def describe(self) -> str:
        parts = [f"{len(self.rels)} relations", f"{len(self.funcs)} functions"]
        parts += [f"{len(self.types)} types", *sorted(self.groups)]
        return ", ".join(parts)


# The full read runs in stages: the client turns one stage's rows into objects while the server
# runs the next stage's queries. psycopg hands over no result of a pipeline before it has fetched
# every result queued, so queuing every kind at once cost the server's time plus the client's.
# A snapshot takes the server's time plus what the client does once the server is done: the
# conversion of the last stage, and any part of a stage's conversion that outlasts the server's
# next stage; each stage also costs one more wait. So each stage converts in less time than the
# next takes the server (measured at 200 tables, server / client ms: relations and columns
# 16 / 7, indexes and constraints 13 / 4, policies and the small kinds 6 / 2), and the last stage
# is quick to convert. A kind missing here is read last.
_STAGES: tuple[frozenset[str], ...] = (
    frozenset(("relation", "column")),
    frozenset(("index", "constraint")),
    frozenset(
        (
            *("policy", "schema", "function", "trigger", "rule", "type", "extension"),
            *("event trigger", "publication", "publication table", "publication schema"),
            "default privileges",
        )
    ),
)


def stages_of(kinds: tuple[Kind, ...]) -> list[list[Kind]]:
    stages: list[list[Kind]] = [[] for _ in _STAGES]
    for kind in kinds:
        at = next((n for n, labels in enumerate(_STAGES) if kind.label in labels), -1)
        stages[at].append(kind)
    return stages


_Queued = list[tuple[Kind, Fetched]]
_Read = dict[str, dict[ObjectId, SnapshotObject]]


def _convert(fetched: list[tuple[Kind, list[Any]]], read: _Read, comments: dict[str, str]) -> None:
    for kind, rows in fetched:
        objects: dict[ObjectId, SnapshotObject] = {}
        _add_rows(objects, kind, rows, comments)
        read[kind.label] = objects


def _assemble(kinds: tuple[Kind, ...], read: _Read) -> dict[ObjectId, SnapshotObject]:
    """The objects in the order of `kinds` (as if read one kind after the other)."""
    objects: dict[ObjectId, SnapshotObject] = {}
    for kind in kinds:
        objects.update(read[kind.label])
    return objects


# Comments of user objects, read in bulk for a full snapshot and matched by catalog ref.
_COMMENTS_SQL = (
    "SELECT CASE WHEN d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "AND d.objsubid <> 0 THEN 'pg_attribute:' || d.objoid::text || '.' || d.objsubid::text "
    "ELSE d.classoid::pg_catalog.regclass::text || ':' || d.objoid::text END, d.description "
    "FROM pg_catalog.pg_description d WHERE d.objoid >= 16384 OR d.objoid = 2200"
)


def scoped_snapshot(
    kinds: tuple[Kind, ...], rows: Iterable[tuple[int, str]], started: float
) -> Snapshot:
    """The objects of a scoped read (snapshot/scoped.py): rows of (kind's index, the row as
    JSON), a scope holding few objects; `started` (perf_counter) when it was sent."""
    with _no_cycle_collection():
        return _scoped_objects(kinds, rows, started)


def _scoped_objects(
    kinds: tuple[Kind, ...], rows: Iterable[tuple[int, str]], started: float
) -> Snapshot:
    objects: dict[ObjectId, SnapshotObject] = {}
    by_kind: dict[int, list[tuple[Any, ...]]] = {}
    for index, text in rows:
        values = json.loads(text)
        by_kind.setdefault(int(index), []).append(tuple(values.values()))
    for index, kind_rows in by_kind.items():
        _add_rows(objects, kinds[index], kind_rows)
    return Snapshot(objects, (time.perf_counter() - started) * 1000.0)


@functools.cache
def _full_sql(kinds: tuple[Kind, ...]) -> dict[str, str]:
    return {kind.label: kind.select() for kind in kinds}


def _queue(conn: psycopg.Connection[Any], statements: dict[str, str], stage: list[Kind]) -> _Queued:
    return [(kind, catalog.execute(conn, statements[kind.label])) for kind in stage]


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while rows are fetched and turned into objects: the
    thousands of tuples, dicts and objects a snapshot makes hold no reference cycle, yet each
    700 of them made the collector walk the young objects, and each tenth of those walks the
    older ones too (every live object of a process holding models and parse trees). It took a
    quarter of the conversion's CPU at 200 tables, in a process holding nothing else."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def take_snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Read the whole schema model of the connected database."""
    started = time.perf_counter()
    kinds = kinds_for(conn.info.server_version)
    statements = _full_sql(kinds)
    read: _Read = {}
    with catalog.reading(conn), _no_cycle_collection():
        # Comments first, with the first stage: the text is at hand when rows are converted, and
        # the client waits for no query the server runs after the last stage.
        comments = catalog.execute(conn, _COMMENTS_SQL)
        first, *rest = stages_of(kinds)
        queued = _queue(conn, statements, first)
        texts = dict(comments.fetchall())
        for stage in rest:
            # The first fetch waits for the whole stage; the next stage is sent before the
            # other kinds' rows are loaded, so that the server does not wait for the client.
            (first_kind, first_rows), *others = queued
            fetched = [(first_kind, first_rows.fetchall())]
            queued = _queue(conn, statements, stage)
            fetched += [(kind, cursor.fetchall()) for kind, cursor in others]
            _convert(fetched, read, texts)  # while the server runs this stage
        _convert([(kind, cursor.fetchall()) for kind, cursor in queued], read, texts)
    return Snapshot(_assemble(kinds, read), (time.perf_counter() - started) * 1000.0)


def _add_rows(
    objects: dict[ObjectId, SnapshotObject],
    kind: Kind,
    rows: Sequence[tuple[Any, ...]],
    comments: Mapping[str, str] | None = None,
) -> None:
    """Turn rows of `kind.select()` into objects; `comments` by catalog ref (a full read), or
    None: each row holds its comment (a scoped read)."""
    attr_at, acl_at, comment_at, extra_at = _layout(kind, comments is None)
    texts = comments if comments and kind.comment is not None else None
    parents: dict[tuple[str, str], ObjectId] = {}  # one ObjectId per parent (columns share)
    ranked: dict[ObjectId | None, list[dict[str, Value]]] | None = {} if kind.ranked else None
    for row in rows:
        oid = identity(row[0], row[1])
        parent = None
        if row[5] is not None:
            key = (row[4], row[5])
            parent = parents.get(key)
            if parent is None:
                parent = parents[key] = identity(row[4], row[5])
        # psycopg gives str, int, bool, None and list (for arrays) here: only lists need work.
        attrs: dict[str, Value] = {
            name: (tuple(value) if type(value) is list else value)
            for name, at in attr_at
            if (value := row[at]) is not None
        }
        if acl_at is not None and row[acl_at] is not None:
            attrs["privileges"] = normalize_acl_cached(tuple(row[acl_at]), row[acl_at + 1])
        comment = row[comment_at] if comment_at is not None else None
        if texts is not None:
            comment = texts.get(row[2])
        if comment is not None:
            attrs["comment"] = comment
        extra: dict[str, Value] = {
            name: (tuple(value) if type(value) is list else value)
            for name, at in extra_at
            if (value := row[at]) is not None
        }
        objects[oid] = make_object(oid, attrs, parent, extra, row[2], row[3])
        if ranked is not None:
            ranked.setdefault(parent, []).append(attrs)
    if ranked is not None and kind.ranked is not None:
        _rank(ranked, kind.ranked)


def _rank(by_parent: Mapping[ObjectId | None, list[dict[str, Value]]], attr: str) -> None:
    """Replace each object's `attr` (a distinct positive number within its parent: a column's
    attnum) by its rank there, from 1. Ranks are the numbers themselves when they run 1..n,
    as they do for a relation no column was ever dropped from."""
    for siblings in by_parent.values():
        keys = sorted(_number(attrs[attr]) for attrs in siblings)
        if keys[-1] == len(keys):
            continue
        rank = {key: n for n, key in enumerate(keys, 1)}
        for attrs in siblings:
            attrs[attr] = rank[_number(attrs[attr])]


def _number(value: Value) -> int:
    if not isinstance(value, int):
        raise TypeError(f"a ranked attribute holds {value!r}, not a number")
    return value


_Layout = tuple[tuple[tuple[str, int], ...], int | None, int | None, tuple[tuple[str, int], ...]]


@functools.cache
def _layout(kind: Kind, inline_comments: bool) -> _Layout:
    """Where a row of `kind.select()` holds what: (attribute, column) pairs, the ACL and its
    owner, the comment (None: not in the row), (extra, column) pairs."""
    at = 6
    attr_at = tuple((name, at + n) for n, (name, _) in enumerate(kind.attrs))
    at += len(kind.attrs)
    acl_at = None
    if kind.acl is not None:
        acl_at, at = at, at + 2
    comment_at = None
    if kind.comment is not None and inline_comments:
        comment_at, at = at, at + 1
    extra_at = tuple((name, at + n) for n, (name, _) in enumerate(kind.extras))
    return attr_at, acl_at, comment_at, extra_at
