from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from wangge.core.roles import Perm
from wangge.core.scope import scope_for
from wangge.events.models import Notification


def events(request: HttpRequest) -> dict[str, Any]:
    """The unread-notification count in the header."""
    scope = scope_for(getattr(request, "user", None))
    if not scope.has(Perm.EVENTS_VIEW) or scope.user_id is None:
        return {"unread_notifications": 0}
    unread = Notification.objects.filter(user_id=scope.user_id, read_at__isnull=True).count()
    return {"unread_notifications": unread}
