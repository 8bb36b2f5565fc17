"""Which function calls leave nothing behind, so that a query calling them needs no undo.

`select now()`, `select current_setting('app.env')`, `select count(*) from t` change nothing;
`select nextval('s')`, `select public.reset_everything()` may. Built-in functions are known by
name (a table keyed by how they behave, from pg_proc's provolatile); anything else, a function a
migration wrote included, is unknown here and stays a MANUAL item (the state-aware verifier
resolves those from the shadow's pg_proc).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import strings
from migration_rollback.sql.platform_calls import EFFECTS, Effect


class Behaviour(enum.StrEnum):
    """Why a call leaves nothing lasting (pg_proc.provolatile, or what a volatile one does)."""

    IMMUTABLE = "immutable"  # provolatile 'i': the same result for the same arguments
    STABLE = "stable"  # provolatile 's': reads the database, never writes it
    TRANSIENT = "volatile, nothing lasting"  # 'v' but only reads a clock, a random source...


_B = Behaviour
_BY_BEHAVIOUR: Mapping[Behaviour, frozenset[str]] = MappingProxyType(
    {
        _B.IMMUTABLE: frozenset(
            {
                "abs",
                "ceil",
                "ceiling",
                "floor",
                "round",
                "trunc",
                "mod",
                "power",
                "sqrt",
                "greatest",
                "least",
                "lower",
                "upper",
                "length",
                "char_length",
                "btrim",
                "ltrim",
                "rtrim",
                "replace",
                "substr",
                "substring",
                "split_part",
                "strpos",
                "position",
                "left",
                "right",
                "lpad",
                "rpad",
                "repeat",
                "reverse",
                "md5",
                "encode",
                "decode",
                "quote_ident",
                "quote_literal",
                "quote_nullable",
                "regexp_replace",
                "regexp_match",
                "regexp_matches",
                "regexp_split_to_array",
                "string_to_array",
                "array_to_string",
                "array_length",
                "cardinality",
                "array_append",
                "array_prepend",
                "array_cat",
                "array_remove",
                "unnest",
                "jsonb_build_object",
                "jsonb_build_array",
                "json_build_object",
                "json_build_array",
                "jsonb_set",
                "jsonb_typeof",
                "json_typeof",
                "jsonb_array_length",
                "jsonb_object_keys",
                "jsonb_each",
                "jsonb_each_text",
                "jsonb_array_elements",
                "jsonb_strip_nulls",
                "jsonb_pretty",
                "row_to_json",
                "to_jsonb",
                "concat",
                "concat_ws",
                "format",
                "to_hex",
                "chr",
                "ascii",
                "date_part",
                "extract",
                "make_interval",
                "make_date",
                "make_timestamp",
                "num_nulls",
                "num_nonnulls",
                "pg_typeof",
                "generate_series",
                "sha256",
                "int4",
                "int8",
                "text",
                "numrange",
                "int4range",
                "tstzrange",
                "daterange",
            }
        ),
        _B.STABLE: frozenset(
            {
                "now",
                "current_setting",
                "current_database",
                "current_schema",
                "current_schemas",
                "version",
                "to_char",
                "to_date",
                "to_timestamp",
                "to_number",
                "date_trunc",
                "age",
                "to_json",
                "array_agg",
                "string_agg",
                "json_agg",
                "jsonb_agg",
                "json_object_agg",
                "jsonb_object_agg",
                "count",
                "sum",
                "min",
                "max",
                "avg",
                "bool_and",
                "bool_or",
                "every",
                "to_regclass",
                "to_regproc",
                "to_regprocedure",
                "to_regtype",
                "to_regnamespace",
                "to_regrole",
                "has_table_privilege",
                "has_schema_privilege",
                "has_function_privilege",
                "has_column_privilege",
                "has_database_privilege",
                "has_sequence_privilege",
                "pg_has_role",
                "pg_get_functiondef",
                "pg_get_viewdef",
                "pg_get_indexdef",
                "pg_get_constraintdef",
                "pg_get_expr",
                "pg_get_userbyid",
                "obj_description",
                "col_description",
                "shobj_description",
                "format_type",
                "pg_table_size",
                "pg_relation_size",
                "pg_total_relation_size",
                "pg_indexes_size",
                "pg_database_size",
                "pg_size_pretty",
                "pg_is_in_recovery",
                "pg_postmaster_start_time",
                "pg_backend_pid",
                "pg_encoding_to_char",
                "inet_server_addr",
                "pg_table_is_visible",
                "pg_function_is_visible",
                "pg_type_is_visible",
                "current_timestamp",
                "transaction_timestamp",
                "statement_timestamp",
                "pg_current_wal_lsn",
                "pg_column_size",
                "exists",
            }
        ),
        _B.TRANSIENT: frozenset(
            {
                "clock_timestamp",
                "timeofday",
                "random",
                "gen_random_uuid",
                "uuid_generate_v4",
                "uuid_generate_v1",
                "pg_sleep",
                "pg_sleep_for",
                "txid_current",
                "pg_current_xact_id",
                "pg_advisory_xact_lock",
                "pg_try_advisory_xact_lock",
                "pg_advisory_lock",
                "pg_advisory_unlock",
                "pg_try_advisory_lock",
                "pg_advisory_unlock_all",
            }
        ),
    }
)
BUILTIN: Mapping[str, Behaviour] = MappingProxyType(
    {name: behaviour for behaviour, names in _BY_BEHAVIOUR.items() for name in names}
)
# Where built-in functions live; a call qualified with another schema is not a built-in.
_BUILTIN_SCHEMAS = ("", "pg_catalog", "extensions")

# Platform calls whose effect needs no undo: a request or a message sent, a session setting.
PLATFORM_NOTHING_LASTING = frozenset(
    call for call, effect in EFFECTS.items() if effect in (Effect.SENDS, Effect.CONFIGURES_SESSION)
)


def calls(node: Any) -> Iterator[tuple[str, str]]:
    """(schema or "", name) of every function a statement calls, sub-selects included."""
    if isinstance(node, ast.FuncCall):
        names = strings(node.funcname)
        yield (names[-2] if len(names) > 1 else "", names[-1])
    if isinstance(node, ast.Node):
        for attr in node:  # pglast nodes iterate over their field names
            yield from calls(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from calls(item)


def behaviour(schema: str, name: str) -> Behaviour | None:
    """How a built-in behaves; None for a function this table does not know."""
    return BUILTIN.get(name) if schema in _BUILTIN_SCHEMAS else None


def unknown_calls(
    node: Any, also_harmless: Collection[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """The calls of a statement that may leave something behind (unknown to the table)."""
    return [
        c for c in dict.fromkeys(calls(node)) if behaviour(*c) is None and c not in also_harmless
    ]


def locks_or_reads_only(node: Any, also_harmless: Collection[tuple[str, str]] = ()) -> bool:
    """A SELECT that writes nothing: no INTO, no data-modifying WITH, only known calls."""
    if getattr(node, "intoClause", None) is not None:
        return False
    with_clause = getattr(node, "withClause", None)
    for cte in getattr(with_clause, "ctes", None) or ():
        if not isinstance(getattr(cte, "ctequery", None), ast.SelectStmt):
            return False
    return not unknown_calls(node, also_harmless)
