"""Open311 GeoReport v2 (to be written)."""

from __future__ import annotations

from typing import Any


def urlpatterns() -> list[Any]:
    return []
