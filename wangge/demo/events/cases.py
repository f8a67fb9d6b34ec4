"""What the simulation works on: the active categories and current grids, loaded once from the
database, and `Case`, an event being simulated (times as Unix seconds)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.utils import timezone

from wangge.demo.events.reference import S
from wangge.events.calendar import office_periods
from wangge.events.models import Category, Tier
from wangge.regions.models import Boundary, Level, Region


@dataclass(frozen=True)
class Cat:
    pk: int
    code: str
    name: str
    department: str
    self_resolve: bool
    public: bool
    accept_m: int
    handle_m: int
    verify_m: int
    handle_amount: int
    handle_unit: str


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    community: str
    street: str
    geom: Any
    inner: tuple[float, float]


Actor = tuple[int | None, str]


@dataclass
class Case:
    """An event being simulated: the model's fields, times as Unix seconds, and its log."""

    cat: Cat
    grid: Grid
    channel: str
    created: int
    title: str
    description: str
    address: str
    lon: float
    lat: float
    reporter: Actor
    reporter_name: str = ""
    reporter_phone: str = ""
    tracking_code: str | None = None
    stuck: bool = False
    merge_into: int | None = None  # index of the case it duplicates
    merge_at: int | None = None
    status: str = S.PENDING
    tier: int = Tier.GRID
    department_code: str = ""
    handler_department: str = ""
    handler_id: int | None = None
    filed: int | None = None
    dispatched: int | None = None
    reported: int | None = None
    closed: int | None = None
    due: int | None = None
    handle_due: int | None = None
    no_return: bool = False
    self_resolved: bool = False
    parked_from: str = ""
    parked_at: int | None = None
    supervised: bool = False
    close_kind: str = ""
    satisfaction: int | None = None
    overdue: bool = False
    marked: int | None = None
    on_time: bool | None = None
    return_count: int = 0
    rework_count: int = 0
    extend_count: int = 0
    park_count: int = 0
    handling_seconds: int | None = None
    version: int = 0
    updated: int = 0
    end: float = math.inf  # when it left the open statuses
    actions: list[tuple[Any, ...]] = field(default_factory=list)


def aware(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


def iso_local(t: int) -> str:
    return dt.datetime.fromtimestamp(t, timezone.get_current_timezone()).isoformat()


def load_grids() -> dict[str, Grid]:
    regions = (
        Region.objects.dangerously_unscoped()
        .filter(valid_to=None)
        .exclude(level=Level.GRID)
        .values_list("code", "name")
    )
    names = dict(regions)
    grids = {}
    boundaries = (
        Boundary.objects.dangerously_unscoped()
        .filter(valid_to=None, region__level=Level.GRID)
        .values_list("region__code", "region__name", "geojson")
    )
    for code, name, geojson in sorted(boundaries):
        geom = shapely.from_geojson(geojson)
        shapely.prepare(geom)
        inner = geom.representative_point()
        grids[code] = Grid(
            code=code,
            name=name,
            community=names.get(code[:12], ""),
            street=names.get(code[:9], ""),
            geom=geom,
            inner=(float(inner.x), float(inner.y)),
        )
    return grids


def load_categories() -> dict[str, Cat]:
    day = sum(p.minutes for p in office_periods())
    per = {"minute": 1, "hour": 60, "day": day}
    cats = {}
    for c in Category.objects.filter(parent__isnull=False, active=True).select_related(
        "department"
    ):
        cats[c.code] = Cat(
            pk=c.pk,
            code=c.code,
            name=c.name,
            department=c.department.code if c.department else "",
            self_resolve=c.self_resolve,
            public=c.public,
            accept_m=c.accept_limit * per[c.accept_unit],
            handle_m=c.handle_limit * per[c.handle_unit],
            verify_m=c.verify_limit * per[c.verify_unit],
            handle_amount=c.handle_limit,
            handle_unit=c.handle_unit,
        )
    return cats
