"""What the simulation works on: the active categories and current grids, loaded once from the
database, and `Case`, an event being simulated: an `Event` in memory (the workflow's own
`step()` changes it) and what the simulation knows beside it (times as Unix seconds)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db.models.base import ModelState
from django.utils import timezone

from wangge.events.calendar import office_periods
from wangge.events.models import Category, Event
from wangge.regions.models import Boundary, Level, Region


@dataclass(frozen=True)
class Cat:
    """A category, with its limits in office minutes for the simulation's timing."""

    category: Category
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
    """An event being simulated: the `Event` (unsaved, its id given) and its log, with the
    simulation's own plans (a duplicate to merge, an event that stays stuck)."""

    event: Event
    cat: Cat
    grid: Grid
    created: int
    reporter: Actor
    stuck: bool = False
    merge_into: int | None = None  # index of the case it duplicates
    merge_at: int | None = None
    end: float = math.inf  # when it left the open statuses
    actions: list[tuple[Any, ...]] = field(default_factory=list)


_DEFAULTS: dict[str, Any] = {}


def blank_event(category: Category, **fields: Any) -> Event:
    """An `Event` in memory with every field at its default, then `fields`: made without
    `Event.__init__`, which costs a tenth of a millisecond, and the history makes thousands."""
    if not _DEFAULTS:
        _DEFAULTS.update({f.attname: f.get_default() for f in Event._meta.concrete_fields})
    event = Event.__new__(Event)
    event._state = ModelState()
    event.__dict__.update(_DEFAULTS)
    event.__dict__.update(fields)
    event.category = category
    return event


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
            category=c,
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
