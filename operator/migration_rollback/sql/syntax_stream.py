"""pglast's printer, with calls written in SQL syntax printed back in that syntax.

`now() AT TIME ZONE 'UTC'`, `trim(x)`, `substring(s FROM 2)`... parse to calls of
`pg_catalog.timezone`, `btrim`, `substring` marked as SQL syntax (COERCE_SQL_SYNTAX). pglast
prints them as plain calls, `pg_catalog.timezone('UTC', now())`: the same value, but a
constraint, default, index or policy recreated from that text is stored as a plain call,
and PostgreSQL shows it so (`timezone('UTC'::text, now())`): the catalog differs from the one
the forward migration's own text made. Printed in their syntax, the two are one.
"""

from __future__ import annotations

from typing import Any

from pglast.enums.primnodes import CoercionForm
from pglast.printers import get_special_function
from pglast.printers.sfuncs import can_use_special_syntax
from pglast.stream import RawStream


class SyntaxStream(RawStream):
    """A RawStream that prints a call in SQL syntax the way it was written, and any call
    written plainly as a plain call (pglast's `special_functions` would rewrite those too)."""

    def get_printer_for_function(self, name: str, node: Any = None) -> Any:
        printer = get_special_function(name)
        if printer is None or node is None:
            return None
        if node.funcformat != CoercionForm.COERCE_SQL_SYNTAX:
            return None
        return printer if can_use_special_syntax(printer, node) else None
