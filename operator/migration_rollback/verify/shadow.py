"""The shadow database a replay runs in: a scratch database on a given server, or a throwaway
cluster when no server is given.

With `--shadow-url` the tool creates `mr_shadow_<random>` on that server (the URL's role needs
CREATEDB; a superuser also lets the verifier install its change-capture event triggers) and
drops it afterwards, whatever happens. Without it, `verify/cluster.py` starts a private
PostgreSQL from the local server binaries and removes it afterwards.

Either way the shadow must run the project's major (`verify/majors.py`): a given server of
another major, or no local binaries of that major, is refused with a plain message
(`ShadowMajorError`) unless the user allowed another major; then `ShadowServer.off_major` is the
label every verdict carries.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from migration_rollback.conninfo import parse_database_url
from migration_rollback.errors import DatabaseUnavailableError
from migration_rollback.redact import Redactor
from migration_rollback.verify.cluster import (
    TemporaryCluster,
    available_majors,
    temporary_cluster,
)
from migration_rollback.verify.dbsettings import copy_database_settings
from migration_rollback.verify.majors import (
    MajorRequirement,
    ShadowMajorError,
    judge,
    missing_binaries_message,
    server_major,
)
from migration_rollback.verify.room import UNPLACED, Room, ShadowConnection
from migration_rollback.verify.scratch import OVERRIDE_HINT, Medium, placed, probe_oom_kills


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database (keeps user, host, port and options)."""
    return parse_database_url(url, where=SHADOW_WHERE).with_database(dbname)


def redact(url: str) -> str:
    """The URL fit for messages, rebuilt from its parsed parts (never the password)."""
    return parse_database_url(url, where=SHADOW_WHERE).display


SHADOW_WHERE = "the shadow URL (--shadow-url)"


@dataclass
class ShadowServer:
    """A server on which the replay may create and drop scratch databases."""

    admin_url: str
    description: str
    major: int | None = None  # the server's PostgreSQL major
    off_major: str | None = None  # set when it is not the required major (allowed): the label
    room: Room = UNPLACED  # where its files are: running out of room there stops the run
    notes: tuple[str, ...] = ()  # what parsing the given URL dropped (surrounding whitespace)
    # Held while a baseline loads: it alters the server's roles, which concurrent loads on
    # several shadow databases would update at once ("tuple concurrently updated").
    baseline_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connect(self, url: str) -> ShadowConnection:
        """A session on one of its databases (every connection to the shadow is made here)."""
        return ShadowConnection.open(url, self.room)

    def connect_admin(self) -> ShadowConnection:
        try:
            return self.connect(self.admin_url)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailableError(
                f"cannot connect to the shadow server {redact(self.admin_url)}: "
                f"{self.redactor().scrub(first)}"
            ) from None

    def redactor(self) -> Redactor:
        return parse_database_url(self.admin_url, where=SHADOW_WHERE).redactor()

    def url_for(self, dbname: str) -> str:
        return with_database(self.admin_url, dbname)

    def create_database(
        self, prefix: str = "mr_shadow", template: str | None = None, *, file_copy: bool = False
    ) -> str:
        """A new database, empty or a copy of `template`; `file_copy`: copied file by file
        where the server can (PG15+, STRATEGY FILE_COPY: for a small database it is faster
        than WAL_LOG, the default, which writes every page to the WAL)."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self.connect_admin() as conn:
            if template is not None:
                query = sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                    sql.Identifier(name),
                    sql.Identifier(template),
                    sql.SQL(_strategy(conn.info.server_version, file_copy=file_copy)),
                )
            try:
                conn.execute(query)
            except psycopg.Error as exc:
                why = self.redactor().scrub(str(exc.diag.message_primary or exc))
                raise DatabaseUnavailableError(
                    f"cannot create a scratch database on {redact(self.admin_url)} "
                    f"(the role needs CREATEDB): {why}"
                ) from None
        return name

    def drop_database(self, name: str) -> None:
        with self.connect_admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _strategy(server_version: int, *, file_copy: bool) -> str:
    """The STRATEGY clause, which PostgreSQL before 15 does not know (it always copies files)."""
    return " STRATEGY FILE_COPY" if file_copy and server_version >= 150000 else ""


@dataclass
class ShadowDatabase:
    server: ShadowServer
    name: str
    # A copy of a database the baseline was loaded in (`prepared_template`): not loaded again.
    prepared: bool = False

    @property
    def url(self) -> str:
        return self.server.url_for(self.name)

    def connect(self) -> ShadowConnection:
        """An autocommit session that never lets psycopg prepare statements (see catalog.py)."""
        return self.server.connect(self.url)


def _server_version_num(server: ShadowServer) -> int:
    with server.connect_admin() as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    return int(row[0]) if row else 0


def _given_server(shadow_url: str, req: MajorRequirement) -> ShadowServer:
    # Refuse an ambiguous URL first; connect with what was parsed (whitespace dropped, said).
    target = parse_database_url(shadow_url, where=SHADOW_WHERE)
    server = ShadowServer(
        target.dsn,
        f"shadow server {redact(target.dsn)}",
        room=_given_room(target.dsn),
        notes=target.notes,
    )
    server.major = server_major(_server_version_num(server))
    server.off_major = judge(req, server.major, server.description)
    server.description += f", PostgreSQL {server.major}"
    return server


def _cluster_major(req: MajorRequirement) -> int | None:
    """The major to start a cluster of: the required one if present here, else refuse (or,
    when another major is allowed, the newest here); None: any will do."""
    if req.major is None:
        return None
    available = available_majors()
    if req.major in available:
        return req.major
    if req.allow_other and available:
        return max(available)  # the closest we have: labelled, not refused
    raise ShadowMajorError(missing_binaries_message(req, {m: str(d) for m, d in available.items()}))


@contextlib.contextmanager
def shadow_server(
    shadow_url: str | None, major: MajorRequirement | None = None
) -> Iterator[ShadowServer]:
    """The given server, or a throwaway cluster removed when the block ends; either of the
    required major (`major`), or refused before anything runs."""
    req = major or MajorRequirement()
    if shadow_url:
        yield _given_server(shadow_url, req)
        return
    with temporary_cluster(major=_cluster_major(req)) as cluster:
        actual = cluster.major
        which = f"PostgreSQL {actual}, " if actual else ""
        description = f"temporary PostgreSQL cluster ({which}port {cluster.port})"
        server = ShadowServer(cluster.url(), description, actual, room=_room_of(cluster))
        if actual is not None:
            server.off_major = judge(req, actual, description)
        yield server


def _given_room(shadow_url: str) -> Room:
    return Room(
        f"the shadow server {redact(shadow_url)} ran out of room",
        "free room on it, or give --shadow-url another server, and run again",
    )


def _room_of(cluster: TemporaryCluster) -> Room:
    """The throwaway cluster's room: its scratch directory, why that one, and how to choose
    another; its data directory and log, to tell a restart for want of room."""
    where = placed(cluster.scratch) if cluster.scratch else str(cluster.base_dir.parent)
    memory = cluster.scratch is not None and cluster.scratch.medium is Medium.MEMORY
    return Room(
        f"the temporary PostgreSQL ran out of room in {where}",
        OVERRIDE_HINT,
        cluster.data_dir,
        cluster.log,
        memory=memory,
        oom_kills=probe_oom_kills() if memory else None,
    )


def _reachable(database: ShadowDatabase) -> None:
    """The scratch database is a new name on the shadow server: credentials that reach only the
    URL's own database (a .pgpass line naming it, a pg_hba rule) fail here, said as such."""
    try:
        database.connect().close()
    except psycopg.OperationalError as exc:
        server = database.server
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailableError(
            f"cannot connect to the scratch database {database.name} the replay created on "
            f"the shadow server {redact(server.admin_url)}: {server.redactor().scrub(first)}; "
            "the shadow URL's role and password must reach every database of that server "
            "(a .pgpass line or pg_hba rule for one database only does not)"
        ) from None


@contextlib.contextmanager
def shadow_database(
    shadow_url: str | None, major: MajorRequirement | None = None
) -> Iterator[ShadowDatabase]:
    """A fresh scratch database, dropped (or its cluster removed) when the block ends."""
    with shadow_server(shadow_url, major) as server, scratch_database(server) as database:
        yield database


@contextlib.contextmanager
def scratch_database(server: ShadowServer, template: str | None = None) -> Iterator[ShadowDatabase]:
    """A fresh scratch database on `server` (a copy of the prepared `template`, its
    database-level settings given again: a copy does not inherit them), dropped when the block
    ends, whatever happens."""
    name = server.create_database(template=template, file_copy=True)
    try:
        database = ShadowDatabase(server, name, prepared=template is not None)
        if template is not None:
            _copy_settings(server, template, name)
        _reachable(database)
        yield database
    finally:
        with contextlib.suppress(psycopg.Error, DatabaseUnavailableError):
            server.drop_database(name)


def _copy_settings(server: ShadowServer, template: str, copy: str) -> None:
    """The template's ALTER DATABASE ... SET (the baseline's search_path) on the copy; one
    that cannot be given is an error: the copy would not be what the baseline made."""
    with server.connect_admin() as conn:
        lost = copy_database_settings(conn, template, copy)
    if lost:
        raise DatabaseUnavailableError(
            f"cannot give the shadow database {copy} the settings of its template {template} "
            f"on {redact(server.admin_url)}: {server.redactor().scrub('; '.join(lost))}"
        )


@contextlib.contextmanager
def prepared_template(
    server: ShadowServer, prepare: Callable[[ShadowDatabase], None]
) -> Iterator[str]:
    """A database `prepare` made ready (the baseline loaded), for the workers to copy; its
    name, and it dropped when the block ends, whatever happens. Its sessions are closed by
    then: CREATE DATABASE ... TEMPLATE refuses a template someone is connected to."""
    with scratch_database(server) as template:
        prepare(template)
        yield template.name
