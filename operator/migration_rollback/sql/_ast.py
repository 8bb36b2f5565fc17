"""pglast's parse-tree classes, seen by the type checker as dynamic.

pglast annotates every node field as Optional although the grammar guarantees most of them
(a CreateStmt always has a relation); checking against those annotations would mean a None
test per field access. Importing the module through this alias keeps strict typing everywhere
else while parse-tree access stays readable.
"""

from typing import Any

import pglast.ast as _pglast_ast

ast: Any = _pglast_ast
