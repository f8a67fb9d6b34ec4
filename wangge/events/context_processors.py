from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from wangge.core.scope import scope_for
from wangge.events.selectors import unread_count


def events(request: HttpRequest) -> dict[str, Any]:
    """The unread-notification count in the header."""
    return {"unread_notifications": unread_count(actor=scope_for(getattr(request, "user", None)))}
