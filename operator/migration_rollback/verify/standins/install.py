"""Installing stand-ins on the shadow database, and what the replay needs to know about them.

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

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import psycopg
from pglast import ast
from pglast.stream import RawStream

from migration_rollback.sql import Statement
from migration_rollback.verify import catalog
from migration_rollback.verify.snapshot import quote_ident
from migration_rollback.verify.standins import CURRENT_SCHEMA, StandIn, standin
from migration_rollback.verify.standins.reach import words

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

# The extensions asked for ($1), or when NULL the stand-ins: installed, yet not among the server's
# available extensions ($2). Chosen in the query, it costs no round trip of its own.
_STANDINS = "CASE WHEN $1 IS NULL THEN NOT x.extname = ANY($2) ELSE x.extname = ANY($1) END"

# The state of every member of the given extensions: what a migration could change in them
# (privileges, owner, columns, policies, triggers, indexes, function bodies and settings), as
# a JSON object: what a rollback can put back on a member like on any object (privileges, as
# aclitems, defaults spelled out; owner; a function's settings) apart from the rest (see
# verify/stateful/members.py).
_MEMBER_STATE = (
    """
SELECT x.extname, o.type || ' ' || o.identity,
  CASE d.classid
  WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(c.relacl, pg_catalog.acldefault(
        CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))::text[],
      'owner', pg_catalog.pg_get_userbyid(c.relowner),
      'rest', pg_catalog.concat_ws('|', c.relrowsecurity, c.relforcerowsecurity,
      (SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid,
         a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(a.attacl::text, ''), ', '
         ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT pg_catalog.string_agg(p.polname || ' ' || p.polcmd::text || ' ' || p.polroles::text
         || ' ' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') || ' '
         || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''), ', '
         ORDER BY p.polname) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),
      (SELECT pg_catalog.string_agg(t.tgname || ' ' || t.tgenabled::text, ', ' ORDER BY t.tgname)
       FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
      (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), ', '
         ORDER BY 1) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)))::text
    FROM pg_catalog.pg_class c WHERE c.oid = d.objid)
  WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(p.proacl, pg_catalog.acldefault('f'::"char", p.proowner))::text[],
      'owner', pg_catalog.pg_get_userbyid(p.proowner), 'config', p.proconfig,
      'rest', pg_catalog.concat_ws('|', pg_catalog.md5(p.prosrc), p.prosecdef,
        p.provolatile))::text
    FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
  WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(n.nspacl, pg_catalog.acldefault('n'::"char", n.nspowner))::text[],
      'owner', pg_catalog.pg_get_userbyid(n.nspowner))::text
    FROM pg_catalog.pg_namespace n WHERE n.oid = d.objid)
  WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (
    SELECT pg_catalog.jsonb_build_object('kind', o.type, 'identity', o.identity,
      'acl', coalesce(t.typacl, pg_catalog.acldefault('T'::"char", t.typowner))::text[],
      'owner', pg_catalog.pg_get_userbyid(t.typowner))::text
    FROM pg_catalog.pg_type t WHERE t.oid = d.objid)
  ELSE '' END
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid
CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) o
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
  AND """
    + _STANDINS
)


def _canonical(state: str | None) -> str:
    """A member's state with its privileges as a set (a revoke and a re-grant reorder them)."""
    if not state:
        return ""
    value = json.loads(state)
    value["acl"] = sorted(value.get("acl") or ())
    return json.dumps(value, sort_keys=True)


# Names a migration uses a stand-in by: its own schemas (`cron.` ...), and the functions and
# types it puts in a shared schema (`vector`, `jsonb_matches_schema(` ...).
_MEMBER_NAMES = (
    """
SELECT m.*, EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.proname = m.name
                   AND p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace) FROM (
SELECT x.extname, o.type, o.schema,
  CASE WHEN d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
       THEN (SELECT p.proname::text FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
       ELSE coalesce(o.name, o.identity) END AS name
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid
CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) o
WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
  AND """
    + _STANDINS
    + "\n) m"
)
_EVENT_TRIGGERS = "SELECT evtname FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D'"
_SHARED_SCHEMAS = frozenset({"public", "extensions", "pg_catalog"})
_NAMED_KINDS = frozenset({"function", "type", "domain", "composite type", "table", "view"})


class Members(NamedTuple):
    """The stand-ins' members, by name."""

    names: dict[str, frozenset[str]]  # per stand-in, the names that show a use (`uses`)
    words: frozenset[str]  # every word of their names, schemas and extensions (`reach`)
    event_triggers: frozenset[str]  # enabled ones: code any DDL may run (`reach`)


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
        # Run twice per round trip (and member_names once): prepared once (the server re-analyzes
        # it should the session's search_path have changed), it skips a parse and plan each time.
        rows = catalog.execute(self.conn, _MEMBER_STATE, self._which(names)).fetchall()
        return {(str(ext), str(member)): _canonical(state) for ext, member, state in rows}

    def member_names(self) -> dict[str, frozenset[str]]:
        """Per installed stand-in: the names that show a migration uses it (see `uses`)."""
        return self.members().names

    def members(self) -> Members:
        """What names the stand-ins' members, and the enabled event triggers: one round trip."""
        with self.conn.pipeline():
            named = catalog.execute(self.conn, _MEMBER_NAMES, self._which(None))
            triggers = catalog.execute(self.conn, _EVENT_TRIGGERS)
        rows = named.fetchall()
        found = {w for ext, _k, schema, name, _b in rows for w in words(f"{ext} {schema} {name}")}
        enabled = frozenset(str(name) for (name,) in triggers.fetchall())
        return Members(_names_used_by(rows), frozenset(found), enabled)

    def _which(self, names: Iterable[str] | None) -> list[tuple[Any, str]]:
        """The arguments of `_STANDINS`: these extensions, or (None) the stand-ins."""
        wanted = None if names is None else list(names)
        return [(wanted, "text[]"), (sorted(self.available), "text[]")]

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


def _names_used_by(rows: list[Any]) -> dict[str, frozenset[str]]:
    """Per stand-in, from its members' rows: the names that show a migration uses it."""
    out: dict[str, set[str]] = {}
    # An extension's own schemas: those it created, and those only its members live in
    # (vault, pgsodium, graphql: created by the platform, then filled by the extension).
    own = {(str(ext), str(name)) for ext, kind, _s, name, _b in rows if kind == "schema"}
    users: dict[str, set[str]] = {}
    for ext, _kind, schema, _name, _builtin in rows:
        if schema is not None:
            users.setdefault(str(schema), set()).add(str(ext))
    for schema, exts in users.items():
        if len(exts) == 1 and schema not in _SHARED_SCHEMAS:
            own.add((next(iter(exts)), schema))
    for ext, schema in own:
        out.setdefault(ext, set()).add(f"{schema}.")  # anything qualified with its own schema
    for ext, kind, schema, name, builtin in rows:
        if (str(ext), str(schema)) in own or name is None:
            continue
        names = out.setdefault(str(ext), set())
        if kind in _NAMED_KINDS:
            names.add(f"{schema}.{name}")
            if not builtin:  # a bare `sign(` is PostgreSQL's own more often than pgjwt's
                names.add(str(name))
        elif kind == "operator":
            names.add(f"OPERATOR({schema}.")
    return {k: frozenset(v) for k, v in out.items()}


def uses(text: str, names: Mapping[str, frozenset[str]]) -> list[str]:
    """The stand-ins a piece of SQL refers to, by the names of their members."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z_][a-z0-9_$]*", lowered))
    found: list[str] = []
    for ext, members in names.items():
        for member in members:
            if "." in member or member.startswith("OPERATOR("):
                pattern = r"(?<![a-z0-9_$])" + re.escape(member.lower())
                hit = member.lower() in lowered and re.search(pattern, lowered) is not None
            else:
                hit = member.lower() in words
            if hit:
                found.append(ext)
                break
    return sorted(found)


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
