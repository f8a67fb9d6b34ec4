"""Project-level pages that gather several modules (the start page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.roles import Perm, Role
from wangge.core.scope import scope_for
from wangge.regions.selectors import region_counts, region_names_unscoped


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    names = region_names_unscoped()
    grants = [
        {
            "role_label": Role(g.role).label,
            "region_code": g.region_code,
            "region_name": names.get(g.region_code, g.region_code),
            "department": g.department,
        }
        for g in scope.grants
    ]
    counts = region_counts(actor=scope) if scope.has(Perm.REGIONS_VIEW) else {}
    events = None
    if scope.has(Perm.EVENTS_VIEW):
        from wangge.events.models import Notification
        from wangge.events.selectors import event_list

        events = {
            "todo": event_list(actor=scope, box="todo").count(),
            "overdue": event_list(actor=scope, box="overdue").count(),
            "unread": Notification.objects.filter(
                user_id=scope.user_id or 0, read_at__isnull=True
            ).count(),
        }
    return render(request, "core/home.html", {"grants": grants, "counts": counts, "events": events})
