from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wangge.core.scope import scope_for
from wangge.core.selectors import abilities


def wangge(request: HttpRequest) -> dict[str, Any]:
    return {"wangge_demo": settings.DEMO} | abilities(
        actor=scope_for(getattr(request, "user", None))
    )
