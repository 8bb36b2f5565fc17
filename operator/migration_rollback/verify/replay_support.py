"""Pure helpers of the replay: statements' file:line, error text, what a forward creates, the
stand-ins' members compared, and the kept model merged with what a forward touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg

from migration_rollback.sql import Script, Statement, classify
from migration_rollback.verify import capture
from migration_rollback.verify.diff import Difference
from migration_rollback.verify.made import as_names, code_bodies, made_by
from migration_rollback.verify.made_in_code import made_in_code
from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.members import STANDIN_MEMBER


def statement_line(text: str, statement: Statement, position: int | None) -> str:
    """file:line:column of a statement (or of the error position inside it)."""
    loc = statement.location
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: max(loc.line - 1, 0)])
    found = text.find(statement.text, start)
    if found < 0:
        return f"{loc.file}:{loc.line}"
    offset = found + (max(position - 1, 0) if position else 0)
    line_start = text.rfind(chr(10), 0, offset) + 1
    return f"{loc.file}:{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def executable(statements: Sequence[Statement]) -> Iterator[Statement]:
    for st in statements:
        if st.kind != "TransactionStmt":
            yield st


_CREATING = ("Create", "View", "Index", "Define", "CompositeType")
_TABLES = frozenset({"CreateStmt", "CreateForeignTableStmt"})


def member_differences(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]
) -> list[Difference]:
    """Differences inside stand-ins' own objects (extensions present before and after): a
    verdict with one is never `verified`, whatever the real extension would do."""
    common = {ext for ext, _ in before} & {ext for ext, _ in after}
    out: list[Difference] = []
    for key in sorted(set(before) | set(after)):
        ext, member = key
        if ext not in common or before.get(key) == after.get(key):
            continue
        obj = ObjectId(STANDIN_MEMBER, f"{member} (extension {ext})")
        if key not in after or key not in before:
            out.append(Difference(obj, "exists", key in before, key in after))
        else:
            out.append(Difference(obj, "definition", before[key], after[key]))
    return out


def would_create(script: Script) -> frozenset[str]:
    """What a migration would have created, as names a later error message may carry: each
    target qualified and bare (schema.table, table, column...), what made.py reads (types,
    schemas, renamed names...) and what its unparsed code may make (made_in_code.py)."""
    names: set[str] = set()
    for st in script.statements:
        creates = st.kind.startswith(_CREATING)
        for target in classify(st).targets:
            if target.column:
                names.add(target.column.lower())
            if not creates:
                continue  # ALTER TABLE ... ADD COLUMN names its column; the table was there
            names.add(target.name.lower())
            if target.schema:
                names.add(f"{target.schema}.{target.name}".lower())
    # Not a new table's columns: a later error on a column as common as `id` would be
    # blamed on this migration.
    others = (st for st in script.statements if st.kind not in _TABLES)
    # What its DO blocks and functions may make: a later failure on it comes from this one.
    code = made_in_code(b for st in script.statements for b in code_bodies(st.node))
    return frozenset(names) | as_names(made_by(others)) | code


def merged(model: SchemaModel, touched: capture.Check) -> Snapshot:
    """S(i) without reading it whole: the model with the touched families replaced."""
    objects: dict[ObjectId, SnapshotObject] = {
        k: o for k, o in model.objects.items() if not touched.scope.covers(o.family)
    }
    objects.update(touched.found.objects)
    return Snapshot(objects)


def error_text(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    detail = exc.diag.message_detail
    state = f" [{exc.sqlstate}]" if exc.sqlstate else ""
    return f"{primary}{state}" + (f" ({detail})" if detail else "")
