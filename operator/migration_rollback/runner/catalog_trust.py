"""Whether the capture schema may be trusted by the role about to restore from it.

`execute` runs what the capture catalog holds as its own role: a definition's restore SQL,
column types spelled into casts, rows written back into the migration's tables. Whoever can
write the catalog, or a kept table, could make the rollback's role run their SQL or write their
rows. The rule: every role that can write there must already hold the rights of the role that
reads it back, so reading gives it nothing it did not have. A role holds them when it is that
role, a superuser, or inherits from it (`pg_has_role(writer, current_user, 'USAGE')`).

The writers checked: the schema's owner (it may drop and replace anything in it), each
relation's owner, and every grantee of INSERT, UPDATE or TRIGGER on a table or any of its
columns (TRIGGER: a trigger on the catalog runs when the restore marks its rows; a sequence's
UPDATE only moves it). PUBLIC is never trusted. DELETE and TRUNCATE are left alone: they can
only take captures away, and a missing capture leaves its MANUAL item unanswered. Anything else
is refused before a row is read, naming the object and the role.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CAPTURE_SCHEMA
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.session import Connection

# (what can write, the role that can) for every writer the rule does not trust.
_UNTRUSTED = """
WITH writers AS (
  SELECT 'schema ' || pg_catalog.quote_ident(n.nspname) AS what, n.nspowner AS who
  FROM pg_catalog.pg_namespace n WHERE n.nspname = %(schema)s
  UNION ALL
  SELECT 'relation ' || c.oid::pg_catalog.regclass::text, c.relowner
  FROM pg_catalog.pg_class c WHERE c.relnamespace = pg_catalog.to_regnamespace(%(schema)s)
  UNION ALL
  SELECT 'relation ' || c.oid::pg_catalog.regclass::text, a.grantee
  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
  WHERE c.relnamespace = pg_catalog.to_regnamespace(%(schema)s) AND c.relkind <> 'S'
    AND a.privilege_type IN ('INSERT', 'UPDATE', 'TRIGGER')
  UNION ALL
  SELECT 'column ' || c.oid::pg_catalog.regclass::text || '.'
         || pg_catalog.quote_ident(t.attname), a.grantee
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute t ON t.attrelid = c.oid AND t.attacl IS NOT NULL,
       pg_catalog.aclexplode(t.attacl) a
  WHERE c.relnamespace = pg_catalog.to_regnamespace(%(schema)s) AND c.relkind <> 'S'
    AND a.privilege_type IN ('INSERT', 'UPDATE')
)
SELECT DISTINCT what, CASE WHEN who = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(who) END
FROM writers
WHERE who = 0 OR NOT pg_catalog.pg_has_role(who, current_user, 'USAGE')
ORDER BY 1, 2
LIMIT 5
"""


def require_trusted_catalog(conn: Connection) -> None:
    """Refuse, before a capture is read, a capture schema a role may write that does not
    already hold the rights of the role reading it (see the module's docstring)."""
    rows = conn.execute(_UNTRUSTED, {"schema": CAPTURE_SCHEMA}).fetchall()
    if not rows:
        return
    listed = "; ".join(f"{what} can be written by {who}" for what, who in rows)
    raise PreconditionError(
        f"the capture schema {CAPTURE_SCHEMA} can be written by roles that do not hold this "
        f"role's rights ({listed}): the rollback would run what they wrote. Make this role (or "
        "a superuser) own the schema and its tables and revoke INSERT/UPDATE/TRIGGER from the "
        "others, or run the rollback as the role that wrote them"
    )


# What roles other than its owner were given on each relation of the capture schema this role
# owns: ALTER DEFAULT PRIVILEGES without IN SCHEMA gives a role rights on every new table.
_GIVEN_TO_OTHERS = """
SELECT DISTINCT c.oid::pg_catalog.regclass::text,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC'
            ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
WHERE c.relnamespace = pg_catalog.to_regnamespace(%(schema)s)
  AND c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
  AND a.grantee <> c.relowner
ORDER BY 1, 2
"""


def seal_capture_schema(conn: Connection) -> int:
    """Revoke every right others were given on the catalog and the capture tables this role
    made (`apply`, before its COMMIT): a global ALTER DEFAULT PRIVILEGES ... GRANT ALL ON TABLES
    had given some role write access to each, and `execute` then refused to trust them, with no
    way on but a REVOKE by hand. How many grants were revoked."""
    given = conn.execute(_GIVEN_TO_OTHERS, {"schema": CAPTURE_SCHEMA}).fetchall()
    for relation, grantee in given:  # both as the server quotes them
        conn.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.SQL(relation), sql.SQL(grantee))
        )
    return len(given)
