"""Which migrations make a split replay (parallel.py) differ from one database's: their effects
reach outside the worker's own shadow database, or outside what catch-up repeats.

All workers use databases of ONE shadow server. Roles, tablespaces, databases, subscriptions
and the server's configuration are the cluster's, not a database's: one worker's `CREATE ROLE
app` makes another's fail, or pass, by timing. And catch-up replays the earlier migrations
forward only, while one database also ran each one's rollback attempt: what that attempt leaves
behind outside its transaction (a sequence advanced: nextval/setval are never rolled back) is
missing from the later workers. A project holding any such statement is verified on one shadow
database (api.py), and the reason is said once. Conservative: a statement of the family anywhere
in a forward or rollback file is enough, and so is its text in a DO block's code (run there, or
by EXECUTE). Not seen: such a statement in a function the files call, or whose name is built at
run time.

Not of the family, by construction: a rollback statement that cannot run in a transaction
(CREATE/DROP INDEX CONCURRENTLY, VACUUM). After a forward that cannot either, the rollback runs
on a copy of the shadow database (clone_trip.py), dropped after; after a transactional forward
it is refused inside the round trip's transaction block before it does anything, or run on a
copy too. Either way nothing is left for a later migration (a parity case checks it). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.effects import calls
from migration_rollback.verify.lenient import lenient_statements
from migration_rollback.verify.parsed_files import ParsedFiles
from migration_rollback.verify.verdict import MigrationPair

_SHARED_OBJECTS = {
    ObjectType.OBJECT_ROLE: "a role",
    ObjectType.OBJECT_DATABASE: "a database",
    ObjectType.OBJECT_TABLESPACE: "a tablespace",
    ObjectType.OBJECT_SUBSCRIPTION: "a subscription",
    ObjectType.OBJECT_PARAMETER_ACL: "a server parameter's privileges",
}
_SEQUENCE_CALLS = frozenset({"nextval", "setval"})
# In a DO block's code, read as text (its statements, or the strings EXECUTE runs, name them):
# a name built at run time is not seen (README: --jobs).
_GAP = r"(?:\s|/\*.*?\*/)+"
_CLUSTER_IN_CODE = re.compile(
    rf"\b(?:(?:create|alter|drop){_GAP}(?:role|user|group|database|tablespace|subscription)"
    rf"|alter{_GAP}system)\b",
    re.IGNORECASE | re.DOTALL,
)
_SEQUENCE_IN_CODE = re.compile(r"\b(?:nextval|setval)\b", re.IGNORECASE)

Rule = Callable[[Any], str | None]


def _always(what: str) -> Rule:
    return lambda _node: what


def _on_shared(field: str) -> Rule:
    """COMMENT ON, SECURITY LABEL ON, ALTER ... RENAME / OWNER: shared when the object is."""
    return lambda node: _SHARED_OBJECTS.get(getattr(node, field, None))  # type: ignore[arg-type]


def _sequence_call(node: Any) -> bool:
    if isinstance(node, ast.DoStmt):
        return bool(_SEQUENCE_IN_CODE.search(_do_code(node)))
    return any(name.lower() in _SEQUENCE_CALLS for _schema, name in calls(node))


def _do_code(node: Any) -> str:
    return next((str(o.arg.sval) for o in node.args or () if o.defname == "as"), "")


_NOUNS = {"user": "a role", "group": "a role", "system": "the server's configuration"}


def _in_do_block(node: Any) -> str | None:
    found = _CLUSTER_IN_CODE.search(_do_code(node))
    if not found:
        return None
    noun = re.split(_GAP, found.group(0).lower())[-1]
    return f"{_NOUNS.get(noun, f'a {noun}')} (in a DO block)"


# Effects on the shadow CLUSTER, shared by all workers: in any file.
_CLUSTER: dict[type, Rule] = {
    ast.CreateRoleStmt: _always("a role"),
    ast.AlterRoleStmt: _always("a role"),
    ast.AlterRoleSetStmt: _always("a role's settings"),
    ast.DropRoleStmt: _always("a role"),
    ast.GrantRoleStmt: _always("a role membership"),
    ast.CreateTableSpaceStmt: _always("a tablespace"),
    ast.DropTableSpaceStmt: _always("a tablespace"),
    ast.AlterTableSpaceOptionsStmt: _always("a tablespace"),
    ast.CreatedbStmt: _always("a database"),
    ast.DropdbStmt: _always("a database"),
    ast.AlterDatabaseStmt: _always("a database"),
    ast.AlterDatabaseSetStmt: _always("a database's settings"),
    ast.AlterSystemStmt: _always("the server's configuration (ALTER SYSTEM)"),
    ast.CreateSubscriptionStmt: _always("a subscription"),
    ast.AlterSubscriptionStmt: _always("a subscription"),
    ast.DropSubscriptionStmt: _always("a subscription"),
    ast.CommentStmt: _on_shared("objtype"),
    ast.SecLabelStmt: _on_shared("objtype"),
    ast.RenameStmt: _on_shared("renameType"),
    ast.AlterOwnerStmt: _on_shared("objectType"),
    ast.GrantStmt: _on_shared("objtype"),  # ON DATABASE / TABLESPACE: ACLs in shared catalogs
    ast.DoStmt: _in_do_block,
}


def first_shared_effect(
    migrations: Sequence[MigrationPair], files: ParsedFiles | None = None
) -> str | None:
    """Why the project must be verified on one shadow database (the first migration, in order,
    whose files need it), or None when a split replay is the same as one database's.

    For `generate` the rollback files are not read (the generator writes them): its inverses of
    transactional statements are transactional and call no sequence function (sql/inverse.py),
    and a forward that cannot run in a transaction is checked on a copy (clone_trip.py).
    `files`: the run's reads and parses, kept for its workers (parsed_files.py)."""
    files = files or ParsedFiles()
    for pair in migrations:
        reason = _forward_reason(pair, files) or _rollback_reason(pair, files)
        if reason:
            return reason
    return None


_SHARED = "migration {name} touches {what}{where}, which all shadow databases share"
_NOT_REPEATED = (
    "migration {name}'s rollback leaves {what}, which a replay split across databases does not"
    " repeat"
)


def _forward_reason(pair: MigrationPair, files: ParsedFiles) -> str | None:
    what = next(_found(files, pair.forward_path, _CLUSTER), None)
    return _SHARED.format(name=pair.name, what=what, where="") if what else None


def _rollback_reason(pair: MigrationPair, files: ParsedFiles) -> str | None:
    name, path, text = pair.name, pair.rollback_path, pair.rollback_text
    if path is None or (text is None and not path.is_file()):
        return None
    if what := next(_found(files, path, _CLUSTER, text), None):
        return _SHARED.format(name=name, what=what, where=" in its rollback")
    if any(_sequence_call(statement.node) for statement in _statements(files, path, text)):
        what = "a sequence advanced or set"
        return _NOT_REPEATED.format(name=name, what=what)
    return None


def first_cluster_effect(
    migrations: Sequence[MigrationPair], *, rollbacks: bool = True
) -> str | None:
    """Where the first statement changing the shadow CLUSTER stands (roles, their settings and
    memberships, databases, tablespaces, subscriptions, ALTER SYSTEM), as `file:line: what
    (Kind)`; None when every statement stays inside the scratch database. Only that database
    is dropped after a run: on a --shadow-url server such a change would stay (cli refuses).
    `rollbacks=False` (generate): the rollback files are not run."""
    files = ParsedFiles()
    for pair in migrations:
        for path, text in _files(pair, rollbacks):
            for statement in _statements(files, path, text):
                rule = _CLUSTER.get(type(statement.node))
                if rule and (what := rule(statement.node)):
                    where = statement.location
                    return f"{where.file}:{where.line}: {what} ({statement.kind})"
    return None


def _files(pair: MigrationPair, rollbacks: bool) -> Iterator[tuple[Path, str | None]]:
    yield pair.forward_path, None
    path, text = pair.rollback_path, pair.rollback_text
    if rollbacks and path is not None and (text is not None or path.is_file()):
        yield path, text


def _found(
    files: ParsedFiles, path: Path, table: dict[type, Rule], text: str | None = None
) -> Iterator[str]:
    """What each statement of the file does of the table's kinds."""
    for statement in _statements(files, path, text):
        rule = table.get(type(statement.node))
        if rule and (what := rule(statement.node)):
            yield what


def _statements(files: ParsedFiles, path: Path, given: str | None = None) -> list[Statement]:
    """The file's statements (`given`: its text as the caller read it), read and parsed as
    the replay reads and parses them."""
    text = files.text(path, given)
    try:
        return list(files.script(str(path), text).statements)
    except SqlSyntaxError:
        return lenient_statements(text, str(path))[0]
