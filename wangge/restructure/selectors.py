"""Reads for the restructuring page."""

from __future__ import annotations

from typing import Any

from wangge.core.roles import Perm
from wangge.core.scope import Scope, require_any


def restructure_page(*, actor: Any) -> Scope:
    """The actor's scope when restructuring exists for them (district administrators);
    NotFound for everyone else, as for a page that is not there."""
    return require_any(actor, Perm.REGIONS_RESTRUCTURE)
