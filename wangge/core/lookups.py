"""`field__literal_in=[...]`: `field IN ('a', 'b')` with the values written into the SQL
instead of bound as parameters.

For a fixed list of the project's own identifiers only (checked: lower-case letters, digits
and underscores). A partial index whose condition is `status IN ('…', …)` is used by SQLite
only when the query names the same list as literals: with bound parameters it cannot prove
that the query implies the index's condition, and scans the whole history instead (4.2 s
against 0.5 ms for the open events of a district with 300,000 events).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import CharField, Lookup

_IDENTIFIER = re.compile(r"[a-z0-9_]+")


class LiteralIn(Lookup):
    lookup_name = "literal_in"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, params = self.process_lhs(compiler, connection)
        values = [str(v) for v in self.rhs]
        if not values or not all(_IDENTIFIER.fullmatch(v) for v in values):
            raise ValueError("literal_in takes a non-empty list of identifiers")
        quoted = ", ".join(f"'{v}'" for v in values)
        return f"{lhs} IN ({quoted})", list(params)


CharField.register_lookup(LiteralIn)
