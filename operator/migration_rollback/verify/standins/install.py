"""Installing stand-ins on the shadow database (what the replay reads of their members: members.py).

`Platform` wraps the replayer's session: `run(statement)` executes a statement the way the
shadow must (a `CREATE EXTENSION` the server cannot satisfy gets its stand-in; a `CREATE INDEX`
using an access method only a stand-in would provide is built as a btree) and says what it did.

How a stand-in becomes an extension without a control file (superuser only, which the replayer
already needs for its change capture): a row in pg_extension (OID from `pg_nextoid`, the same
allocator CREATE EXTENSION uses), the stand-in's script, then every top-level object the script
created (OIDs above the extension's: the OID counter only grows) recorded as a member with an
'e' dependency, as CREATE EXTENSION records it. From then on PostgreSQL treats it as any
extension: `CREATE EXTENSION IF NOT EXISTS` skips it, `DROP EXTENSION` drops its members, a member
cannot be dropped alone, and snapshots show the extension and its version, not its members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import ast
from pglast.stream import RawStream

from migration_rollback.sql import Statement
from migration_rollback.sql.compose import quote_ident
from migration_rollback.verify.batch import Target
from migration_rollback.verify.standins import CURRENT_SCHEMA, StandIn, standin
from migration_rollback.verify.standins.members import (
    Members,
    PendingMemberState,
    member_state,
    queue_member_state,
    read_members,
)

# Catalogs whose rows CREATE EXTENSION records as members, with the filter that keeps the rows
# a script creates at top level (indexes, row types, array types come along with their owner).
_MEMBER_CATALOGS: tuple[tuple[str, str], ...] = (
    ("pg_namespace", "nspname !~ '^pg_(temp|toast)'"),
    ("pg_class", "relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND relpersistence <> 't'"),
    ("pg_proc", "true"),
    ("pg_type", "true"),
    ("pg_operator", "true"),
    ("pg_opclass", "true"),
    ("pg_opfamily", "true"),
    ("pg_cast", "true"),
    ("pg_collation", "true"),
    ("pg_conversion", "true"),
    ("pg_foreign_data_wrapper", "true"),
    ("pg_foreign_server", "true"),
    ("pg_ts_config", "true"),
    ("pg_ts_dict", "true"),
    ("pg_event_trigger", "true"),
    ("pg_language", "true"),
)

_REGISTER_MEMBERS = (
    "INSERT INTO pg_catalog.pg_depend "
    "(classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype) "
    "SELECT c.classid, c.objid, 0, 'pg_catalog.pg_extension'::pg_catalog.regclass, %(ext)s, 0, 'e' "
    "FROM ("
    + " UNION ALL ".join(
        f"SELECT 'pg_catalog.{cat}'::pg_catalog.regclass AS classid, oid AS objid "
        f"FROM pg_catalog.{cat} WHERE oid > %(ext)s AND {cond}"
        for cat, cond in _MEMBER_CATALOGS
    )
    + ") c WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = c.classid "
    "AND d.objid = c.objid AND d.objsubid = 0 AND d.deptype IN ('i', 'a', 'e'))"
)


@dataclass
class Ran:
    """What `Platform.run` did with one statement."""

    standins: list[str] = field(default_factory=list)  # stand-ins it installed or relied on
    notes: list[str] = field(default_factory=list)
    installed: bool = False  # it changed pg_extension behind the change capture's back


class Platform:
    """The shadow session's view of extensions: which the server has, which are stand-ins."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        rows = conn.execute("SELECT name FROM pg_catalog.pg_available_extensions", prepare=False)
        self.available = frozenset(str(r[0]) for r in rows.fetchall())
        self.superuser = bool(
            conn.execute(
                "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
                prepare=False,
            ).fetchone()
            == (True,)
        )

    def rebind(self, conn: psycopg.Connection[Any]) -> None:
        """Run on another session of the same server from now on."""
        self.conn = conn

    # --- what is installed ---------------------------------------------------------------

    def installed(self) -> dict[str, str]:
        """Installed extensions and their versions."""
        rows = self.conn.execute(
            "SELECT extname, extversion FROM pg_catalog.pg_extension", prepare=False
        ).fetchall()
        return {str(name): str(version) for name, version in rows}

    def installed_standins(self) -> list[str]:
        """Installed extensions the server has no control file for: the stand-ins."""
        return sorted(n for n in self.installed() if n not in self.available)

    def member_state(self, names: Iterable[str] | None = None) -> dict[tuple[str, str], str]:
        """(extension, member) -> its state, for the given (default: all) stand-ins."""
        return member_state(self.conn, self.available, names)

    def queue_member_state(self, target: Target | None = None) -> PendingMemberState:
        """`member_state()` of every stand-in, sent in the caller's pipeline or `target` (a
        batch; members.py)."""
        return queue_member_state(target or self.conn, self.available)

    def members(self) -> Members:
        """What names the stand-ins' members, and the enabled event triggers (members.py)."""
        return read_members(self.conn, self.available)

    def can_create(self, name: str) -> bool:
        """Whether CREATE EXTENSION name can succeed here (installed, the server's, a stand-in)."""
        if name in self.available or name in self.installed():
            return True
        return self.superuser and standin(name) is not None

    # --- running statements ----------------------------------------------------------------

    def run(self, statement: Statement) -> Ran:
        """Execute one statement on the shadow session; raises psycopg.Error as executing would."""
        node = statement.node
        if isinstance(node, ast.CreateExtensionStmt):
            return self._create_extension(statement, node)
        if isinstance(node, ast.AlterExtensionStmt) and node.extname not in self.available:
            return self._alter_standin(statement, node)
        if isinstance(node, ast.IndexStmt):
            return self._create_index(statement, node)
        self.conn.execute(statement.text, prepare=False)
        return Ran()

    def _create_extension(self, statement: Statement, node: Any) -> Ran:
        name = str(node.extname)
        options = _options(node.options)
        substitute = standin(name)
        if name in self.installed() or substitute is None or not self.superuser:
            self.conn.execute(statement.text, prepare=False)
            return Ran()
        if name in self.available:
            return self._real_or_standin(statement, substitute)
        return self.install(
            substitute,
            schema=options.get("schema"),
            version=options.get("new_version"),
            cascade=bool(options.get("cascade")),
        )

    def _real_or_standin(self, statement: Statement, substitute: StandIn) -> Ran:
        """The server has the extension: use it, unless it cannot be created here (pg_cron
        outside its configured database, a library missing from shared_preload_libraries)."""
        self.conn.execute("SAVEPOINT _mr_extension", prepare=False)
        try:
            self.conn.execute(statement.text, prepare=False)
        except psycopg.Error as exc:
            self.conn.execute("ROLLBACK TO SAVEPOINT _mr_extension", prepare=False)
            ran = self.install(substitute, schema=_options(statement.node.options).get("schema"))
            ran.installed = True
            why = exc.diag.message_primary or str(exc)
            ran.notes.append(f"the server's {substitute.name} cannot be created here ({why})")
            return ran
        self.conn.execute("RELEASE SAVEPOINT _mr_extension", prepare=False)
        return Ran()

    def install(
        self,
        substitute: StandIn,
        *,
        schema: str | None = None,
        version: str | None = None,
        cascade: bool = True,
    ) -> Ran:
        """Install a stand-in as extension `substitute.name` (in the current transaction)."""
        ran = Ran(standins=[substitute.name], installed=True)
        for required in substitute.requires:
            ran_required = self._require(substitute.name, required, cascade)
            ran.standins.extend(ran_required.standins)
        conn = self.conn
        ext_oid = _fetch_one(
            conn,
            "SELECT pg_catalog.pg_nextoid('pg_catalog.pg_extension', 'oid', "
            "'pg_catalog.pg_extension_oid_index')::oid",
        )
        target = self._target_schema(substitute, schema)
        nsp_oid = _fetch_one(
            conn,
            "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %(s)s",
            {"s": target},
        )
        conn.execute(
            "INSERT INTO pg_catalog.pg_extension (oid, extname, extowner, extnamespace, "
            "extrelocatable, extversion, extconfig, extcondition) VALUES (%(oid)s, %(name)s, "
            "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user), %(nsp)s, "
            "%(reloc)s, %(version)s, NULL, NULL)",
            {
                "oid": ext_oid, "name": substitute.name, "nsp": nsp_oid,
                "reloc": substitute.schema == CURRENT_SCHEMA,
                "version": version or substitute.version,
            },
            prepare=False,
        )  # fmt: skip
        if nsp_oid < ext_oid:  # a schema that was there before: the extension lives in it
            conn.execute(
                "INSERT INTO pg_catalog.pg_depend VALUES ('pg_catalog.pg_extension'::regclass, "
                "%(oid)s, 0, 'pg_catalog.pg_namespace'::regclass, %(nsp)s, 0, 'n')",
                {"oid": ext_oid, "nsp": nsp_oid},
                prepare=False,
            )
        self._run_script(substitute, target)
        conn.execute(_REGISTER_MEMBERS, {"ext": ext_oid}, prepare=False)
        ran.notes.append(
            f"extension {substitute.name} is a stand-in on the shadow server "
            f"({substitute.follows or 'public objects, inert bodies'})"
        )
        return ran

    def _require(self, name: str, required: str, cascade: bool) -> Ran:
        if required in self.installed():
            return Ran()
        if not cascade:
            self._raise(
                "42704",
                f'required extension "{required}" is not installed',
                "Use CREATE EXTENSION ... CASCADE to install required extensions too.",
            )
        if required in self.available:
            self.conn.execute(f"CREATE EXTENSION {quote_ident(required)}", prepare=False)
            return Ran()
        substitute = standin(required)
        if substitute is None:
            self._raise("58P01", f'extension "{required}" (required by {name}) is not available')
        assert substitute is not None
        return self.install(substitute)

    def _target_schema(self, substitute: StandIn, given: str | None) -> str:
        """WITH SCHEMA, else the stand-in's own schema (created if missing, as CREATE EXTENSION
        creates a control file's schema), else the first schema of the search_path."""
        if given:
            if not self._schema_exists(given):
                self._raise("3F000", f'schema "{given}" does not exist')
            return given
        if substitute.schema != CURRENT_SCHEMA:
            if not self._schema_exists(substitute.schema):
                self.conn.execute(f"CREATE SCHEMA {quote_ident(substitute.schema)}", prepare=False)
            return substitute.schema
        current = _fetch_one(self.conn, "SELECT pg_catalog.current_schema()")
        if current is None:
            self._raise("3F000", "no schema has been selected to create in")
        return str(current)

    def _schema_exists(self, name: str) -> bool:
        found = _fetch_one(
            self.conn, "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = %(s)s",
            {"s": name},
        )  # fmt: skip
        return bool(found)

    def _run_script(self, substitute: StandIn, schema: str) -> None:
        # As CREATE EXTENSION does: the script runs with search_path = the target, pg_catalog.
        conn = self.conn
        saved = _fetch_one(conn, "SELECT pg_catalog.current_setting('search_path')")
        conn.execute(
            "SELECT pg_catalog.set_config('search_path', %(p)s, true)",
            {"p": f"{quote_ident(schema)}, pg_catalog"},
            prepare=False,
        )
        conn.execute(substitute.script(schema), prepare=False)
        conn.execute(
            "SELECT pg_catalog.set_config('search_path', %(p)s, true)", {"p": saved}, prepare=False
        )

    def _raise(self, sqlstate: str, message: str, hint: str | None = None) -> None:
        """Raise the error PostgreSQL would, through the server (a real psycopg.Error)."""
        clause = f"ERRCODE = {_literal(sqlstate)}, MESSAGE = {_literal(message)}"
        if hint:
            clause += f", HINT = {_literal(hint)}"
        self.conn.execute(f"DO $mr$ BEGIN RAISE EXCEPTION USING {clause}; END $mr$", prepare=False)

    def _alter_standin(self, statement: Statement, node: Any) -> Ran:
        """ALTER EXTENSION <stand-in> UPDATE [TO v]: there is no script to run; the version."""
        name = str(node.extname)
        if name not in self.installed():
            self.conn.execute(statement.text, prepare=False)
            return Ran()
        version = _options(node.options).get("new_version")
        if version:
            self.conn.execute(
                "UPDATE pg_catalog.pg_extension SET extversion = %(v)s WHERE extname = %(n)s",
                {"v": version, "n": name},
                prepare=False,
            )
        return Ran(
            standins=[name], notes=[f"ALTER EXTENSION {name} UPDATE: a stand-in"], installed=True
        )

    def _create_index(self, statement: Statement, node: Any) -> Ran:
        method = str(node.accessMethod or "btree")
        owner = self._method_owner(method)
        if owner is None:
            self.conn.execute(statement.text, prepare=False)
            return Ran()
        rewritten = rewrite_index(node)
        self.conn.execute(rewritten, prepare=False)
        return Ran(
            standins=[owner],
            notes=[
                f"{statement.location}: index built USING btree instead of {method} on the "
                f"shadow only ({method} comes from the {owner} stand-in)"
            ],
        )

    def plain(self, statement: Statement) -> bool:
        """`run` would only execute the statement's text (so it may be sent with others)."""
        node = statement.node
        if isinstance(node, ast.CreateExtensionStmt):
            return False
        if isinstance(node, ast.AlterExtensionStmt):
            return node.extname in self.available
        if isinstance(node, ast.IndexStmt):
            return str(node.accessMethod or "btree") in _BUILT_IN_METHODS
        return True

    def _method_owner(self, method: str) -> str | None:
        """The installed stand-in that would provide an access method the server lacks."""
        if method in _BUILT_IN_METHODS:  # every server has them: no need to ask
            return None
        known = _fetch_one(
            self.conn, "SELECT count(*) FROM pg_catalog.pg_am WHERE amname = %(m)s", {"m": method}
        )
        if known:
            return None
        for name in self.installed_standins():
            substitute = standin(name)
            if substitute is not None and method in substitute.index_methods:
                return name
        return None


# The index access methods built into every PostgreSQL (pinned: they cannot be dropped).
_BUILT_IN_METHODS = frozenset({"btree", "hash", "gist", "gin", "spgist", "brin"})


def rewrite_index(node: Any) -> str:
    """CREATE INDEX without its access method, operator classes and storage parameters."""
    params = tuple(
        ast.IndexElem(**{**_fields(elem), "opclass": None, "opclassopts": None})
        for elem in node.indexParams
    )
    plain = ast.IndexStmt(
        **{**_fields(node), "accessMethod": "btree", "indexParams": params, "options": None}
    )
    return str(RawStream()(plain))


def _fields(node: Any) -> dict[str, Any]:
    return {name: getattr(node, name) for name in node.__slots__}


def _options(options: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for option in options or ():
        value = option.arg
        if isinstance(value, ast.String):
            out[str(option.defname)] = str(value.sval)
        elif isinstance(value, ast.Boolean):
            out[str(option.defname)] = bool(value.boolval)
        else:
            out[str(option.defname)] = True if value is None else str(value)
    return out


def _fetch_one(
    conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any] | None = None
) -> Any:
    row = conn.execute(query, params, prepare=False).fetchone()
    return row[0] if row else None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
