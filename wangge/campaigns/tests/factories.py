"""Test data for campaigns: a campaign over part of the test world, made by the real service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from wangge.campaigns import services
from wangge.campaigns.models import Campaign, Task
from wangge.core.scope import Scope

SYSTEM = Scope.system("test-campaigns")
LILE = "440704003"  # 礼乐街道: 7 grids in the test world
YINGNAN = "440704003001"  # 英南村: 5 grids
MINE = "440704003001001"  # demo-grid's grid


def campaign(
    *,
    regions: list[str] | None = None,
    template: str = "basic",
    actor: Any = SYSTEM,
    days: int = 10,
    **kwargs: Any,
) -> Campaign:
    today = timezone.localdate()
    return services.campaign_create(
        actor=actor,
        name=kwargs.pop("name", "2026年基础信息采集核查"),
        template=template,
        regions=regions or [LILE],
        start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=days),
        **kwargs,
    )


def task_of(c: Campaign, grid: str = MINE) -> Task:
    return Task.objects.dangerously_unscoped().get(campaign=c, grid_code=grid, parent=None)


_seq: dict[str, int] = {}


def edit(
    op: str,
    kind: str,
    record_id: int | None = None,
    version: int | None = None,
    *,
    device: str = "phone-1",
    **values: Any,
) -> dict[str, Any]:
    """One edit as a phone sends it: a fresh key and the device's next sequence number."""
    _seq[device] = _seq.get(device, 0) + 1
    out: dict[str, Any] = {
        "key": uuid.uuid4().hex,
        "op": op,
        "kind": kind,
        "record_id": record_id,
        "base_version": version,
        "device": device,
        "seq": _seq[device],
        "made_at": timezone.now().isoformat(),
        "values": values,
    }
    return out


def reset_sequences() -> None:
    _seq.clear()
