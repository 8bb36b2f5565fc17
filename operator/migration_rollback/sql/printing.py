"""The text of a flipped GRANT / REVOKE or COMMENT written from its parts, as pglast prints it.

Every GRANT, REVOKE and COMMENT of a migration is undone by the same statement flipped, and
printing that small tree through pglast's printer (a stream, a printer looked up per node,
ancestors set on every node) cost about a tenth of the engine. Their common shapes are a
few words and names: `GRANT <privileges> ON <kind> <names> TO <roles>`, `COMMENT ON <kind>
<name> IS <literal>`. `direct_text` writes those, quoting names by pglast's rule through the
one quoting path (`compose.quote_ident`), and answers None for any other shape, which pglast
prints. A unit test holds the two texts equal, character for character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pglast.enums.parsenodes import DropBehavior, GrantTargetType, RoleSpecType
from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import Quoting, quote_ident, quote_literal


class _Unwritten(Exception):
    """A part this module does not write: pglast prints the whole statement."""


def _name(value: str) -> str:
    # pglast's test is `re.match("[a-z_][a-z0-9_]*$")`, whose `$` also matches before a final
    # newline: such a name it leaves bare, the server's rule quotes it. Left to pglast.
    if value.endswith("\n"):
        raise _Unwritten
    return quote_ident(value, Quoting.PGLAST)


def _dotted(parts: Iterable[Any]) -> str:
    """A name list of String nodes, `schema.name`."""
    names = []
    for part in parts:
        if type(part) is not ast.String:
            raise _Unwritten
        names.append(_name(part.sval))
    return ".".join(names)


def _relation(rv: Any) -> str:
    if type(rv) is not ast.RangeVar or not rv.inh or rv.catalogname or rv.alias:
        raise _Unwritten
    name = _name(rv.relname)
    return f"{_name(rv.schemaname)}.{name}" if rv.schemaname else name


def _routine(owa: Any) -> str:
    """A routine named without its arguments, or with none: arguments are types pglast prints."""
    if type(owa) is not ast.ObjectWithArgs:
        raise _Unwritten
    name = _dotted(owa.objname)
    if owa.args_unspecified:
        return name
    if owa.objfuncargs or owa.objargs:
        raise _Unwritten
    return name + " ()"


def _single_or_dotted(obj: Any) -> str:
    if type(obj) is ast.String:
        return _name(obj.sval)
    if isinstance(obj, tuple) and obj:
        return _dotted(obj)
    raise _Unwritten


def _on_table(obj: Any) -> str:
    """`policy ON schema.table`: the object's own name comes last in the list."""
    if not isinstance(obj, tuple) or len(obj) < 2:
        raise _Unwritten
    return f"{_dotted(obj[-1:])} ON {_dotted(obj[:-1])}"


# How each object kind written here is named: in a GRANT's object list and in a COMMENT.
_Namer = Callable[[Any], str]
# Each kind but SCHEMA also takes `ON ALL <kind>S IN SCHEMA s` (the objects: schema names).
_GRANT_OBJECT: dict[OT, _Namer] = {
    OT.OBJECT_TABLE: _relation,
    OT.OBJECT_SEQUENCE: _relation,
    OT.OBJECT_FUNCTION: _routine,
    OT.OBJECT_PROCEDURE: _routine,
    OT.OBJECT_SCHEMA: _single_or_dotted,
}
_NAMED = (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE,
          OT.OBJECT_SEQUENCE, OT.OBJECT_INDEX, OT.OBJECT_COLUMN, OT.OBJECT_SCHEMA,
          OT.OBJECT_EXTENSION, OT.OBJECT_PUBLICATION, OT.OBJECT_ROLE, OT.OBJECT_FOREIGN_SERVER,
          OT.OBJECT_FDW, OT.OBJECT_EVENT_TRIGGER)  # fmt: skip
_ON_TABLE = (OT.OBJECT_TABCONSTRAINT, OT.OBJECT_POLICY, OT.OBJECT_RULE, OT.OBJECT_TRIGGER)
_COMMENT_OBJECT: dict[OT, _Namer] = {
    **dict.fromkeys(_NAMED, _single_or_dotted),
    **dict.fromkeys(_ON_TABLE, _on_table),
    OT.OBJECT_FUNCTION: _routine,
    OT.OBJECT_PROCEDURE: _routine,
}

_ROLE_WORDS = {
    RoleSpecType.ROLESPEC_PUBLIC: "PUBLIC",
    RoleSpecType.ROLESPEC_CURRENT_USER: "CURRENT_USER",
    RoleSpecType.ROLESPEC_SESSION_USER: "SESSION_USER",
    RoleSpecType.ROLESPEC_CURRENT_ROLE: "CURRENT_ROLE",
}
# Privileges pglast writes in capitals (any other it writes as the tree holds it).
_UPPER_PRIVILEGES = frozenset({
    "select", "insert", "update", "delete", "truncate", "references", "trigger", "execute",
    "usage", "create", "connect", "temporary", "temp", "set", "alter system",
})  # fmt: skip


def _role(spec: Any) -> str:
    if type(spec) is not ast.RoleSpec:
        raise _Unwritten
    word = _ROLE_WORDS.get(spec.roletype)
    return word if word is not None else _name(spec.rolename)


def _privilege(priv: Any) -> str:
    if type(priv) is not ast.AccessPriv:
        raise _Unwritten
    name = priv.priv_name
    if name is not None and name not in _UPPER_PRIVILEGES:
        raise _Unwritten  # written as the tree holds it, whatever characters it has
    text = "ALL PRIVILEGES" if name is None else name.upper()
    if priv.cols is None:
        return text
    return f"{text} ({', '.join(_dotted((col,)) for col in priv.cols)})"


def _grant_target(node: Any) -> str:
    kind = kinds.BY_TYPE.get(node.objtype)
    namer = _GRANT_OBJECT.get(node.objtype)
    if kind is None or namer is None:
        raise _Unwritten
    if node.targtype == GrantTargetType.ACL_TARGET_OBJECT:
        return f"ON {kind.keyword} {', '.join(map(namer, node.objects))}"
    if node.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA and namer is not _single_or_dotted:
        schemas = ", ".join(map(_single_or_dotted, node.objects))
        return f"ON ALL {kind.keyword}S IN SCHEMA {schemas}"
    raise _Unwritten


def _grant(node: Any) -> str:
    words = ["GRANT" if node.is_grant else "REVOKE"]
    if not node.is_grant and node.grant_option:
        words.append("GRANT OPTION FOR")
    privileges = node.privileges
    words.append(", ".join(map(_privilege, privileges)) if privileges else "ALL PRIVILEGES")
    words += (_grant_target(node), "TO" if node.is_grant else "FROM")
    words.append(", ".join(map(_role, node.grantees)))
    if node.is_grant and node.grant_option:
        words.append("WITH GRANT OPTION")
    if node.grantor:
        words.append("GRANTED BY " + _role(node.grantor))
    text = " ".join(words)
    return text + " CASCADE" if node.behavior == DropBehavior.DROP_CASCADE else text


def _comment(node: Any) -> str:
    namer = _COMMENT_OBJECT.get(node.objtype)
    if namer is None:
        raise _Unwritten
    kind = kinds.BY_TYPE[node.objtype].keyword
    value = "NULL" if node.comment is None else quote_literal(node.comment)
    return f"COMMENT ON {kind} {namer(node.object)} IS {value}"


_WRITERS: dict[type, Callable[[Any], str]] = {ast.GrantStmt: _grant, ast.CommentStmt: _comment}


def direct_text(node: Any) -> str | None:
    """The statement's text as pglast prints it, when its shape is one written here."""
    writer = _WRITERS.get(type(node))
    if writer is None:
        return None
    try:
        return writer(node)
    except _Unwritten:
        return None
