from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wangge.core.roles import Perm
from wangge.core.scope import scope_for


def wangge(request: HttpRequest) -> dict[str, Any]:
    scope = scope_for(getattr(request, "user", None))
    return {
        "wangge_demo": settings.DEMO,
        "can_view_audit": scope.has(Perm.AUDIT_VIEW),
        "can_view_regions": scope.has(Perm.REGIONS_VIEW),
        "can_view_teams": scope.has(Perm.TEAMS_VIEW),
        "can_view_ledger": scope.has(Perm.LEDGER_VIEW) or scope.has(Perm.THINGS_VIEW),
        "can_view_events": scope.has(Perm.EVENTS_VIEW),
    }
