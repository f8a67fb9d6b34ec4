from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.events.intake import Report, event_report
from wangge.events.models import Event
from wangge.regions.selectors import interior_point_unscoped

MINE = "440704003001001"  # demo-grid's grid (英南村第1网格, 礼乐街道)
OTHER = "440704001001001"  # another street


def tiny_png(rgba: bytes = b"\xff\x00\x00\xff") -> bytes:
    """A valid 1×1 RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + rgba))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def point() -> Callable[[str], tuple[float, float]]:
    return interior_point_unscoped


@pytest.fixture
def report(db: Any) -> Callable[..., Event]:
    """Report an event as a demo user at a grid's interior point (patrol by default)."""

    def make(
        username: str = "demo-grid", grid: str = MINE, category: str = "0102", **kw: Any
    ) -> Event:
        lon, lat = interior_point_unscoped(grid)
        actor = scope_for(User.objects.get(username=username))
        r = Report(category=category, title=kw.pop("title", "测试事件"), lon=lon, lat=lat, **kw)
        return event_report(actor, r).event

    return make
