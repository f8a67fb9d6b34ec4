"""The public's scopes: residents on the public pages and Open311 clients are not the system.

Each is a `Scope.public(...)` holding exactly the public permissions it needs; through it the
scoped querysets show only the rows the models mark as public (reports that came from the
public, in public categories; their public steps; grid outlines), and the services accept only
what those permissions allow (a public report in a public category).
"""

from __future__ import annotations

from wangge.core.roles import Perm
from wangge.core.scope import Scope

RESIDENT = Scope.public(
    "resident",
    {Perm.EVENTS_PUBLIC_REPORT, Perm.EVENTS_PUBLIC_TRACK, Perm.REGIONS_PUBLIC_OUTLINE},
)

# Anyone may read Open311's public list (the spec's GETs need no key).
OPEN311_READER = Scope.public("open311", {Perm.EVENTS_PUBLIC_READ, Perm.EVENTS_PUBLIC_TRACK})


def open311_client_scope(name: str) -> Scope:
    """A keyed Open311 client: it may file public reports and read public ones."""
    return Scope.public(
        f"open311:{name}",
        {Perm.EVENTS_PUBLIC_REPORT, Perm.EVENTS_PUBLIC_READ, Perm.EVENTS_PUBLIC_TRACK},
    )
