from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.events.intake import Report, event_report
from wangge.events.models import Event
from wangge.regions.selectors import interior_point

MINE = "440704003001001"  # demo-grid's grid (英南村第1网格, 礼乐街道)
OTHER = "440704001001001"  # another street


@pytest.fixture
def point() -> Callable[[str], tuple[float, float]]:
    return interior_point


@pytest.fixture
def report(db: Any) -> Callable[..., Event]:
    """Report an event as a demo user at a grid's interior point (patrol by default)."""

    def make(
        username: str = "demo-grid", grid: str = MINE, category: str = "0102", **kw: Any
    ) -> Event:
        lon, lat = interior_point(grid)
        actor = scope_for(User.objects.get(username=username))
        r = Report(category=category, title=kw.pop("title", "测试事件"), lon=lon, lat=lat, **kw)
        return event_report(actor, r).event

    return make
