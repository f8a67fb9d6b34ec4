"""The dashboard's API under /api/v1/dashboard/ — one endpoint per panel, so that a city can
put the numbers on its own wall screen. Handlers translate; `dashboard.selectors` decides.

Periods: `since` (inclusive) and `until` (exclusive) dates, the last 30 days by default;
`parent` narrows to a region (a code inside the caller's scope).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from wangge.core.api import ERRORS, Day, actor
from wangge.dashboard import selectors

router = Router(tags=["dashboard"])


class Out(BaseModel):
    """The answers' schemas: plain pydantic models over the selectors' dicts (a ninja Schema
    reads each field through its ORM-attribute getter: half a second for a city's 3,024-grid
    ranking)."""


class PeriodIn(Schema):
    since: Day | None = Field(None, description="first day (inclusive); default 29 days ago")
    until: Day | None = Field(None, description="end (exclusive); default tomorrow")
    parent: str = Field("", max_length=15, description="a region code inside your scope")

    def period(self) -> tuple[dt.date, dt.date]:
        since, until = selectors.default_period()
        return self.since or since, self.until or until


class CohortRates(Out):
    """What the period's events (those reported in it) came to."""

    reported: int
    should_close: int
    closed: int
    closed_on_time: int
    overdue: int
    returned: int
    reworked: int
    extended: int
    parked: int
    close_rate: float | None = Field(description="结案率: closed / should close")
    on_time_rate: float | None = Field(description="按期结案率: closed on time / should close")
    avg_handling_hours: float | None


class Rates(CohortRates):
    closed_on_day: int = Field(description="events closed in the period (whenever reported)")
    closed_on_time_on_day: int


class NowOut(Out):
    open: int
    overdue: int
    open_href: str
    overdue_href: str


class PeriodOut(Rates):
    reported_href: str
    closed_href: str


class SummaryOut(Out):
    parent: str
    since: dt.date
    until: dt.date
    now: NowOut
    period: PeriodOut
    target_on_time_rate: float


@router.get(
    "/dashboard/summary",
    url_name="dashboard_summary",
    response={200: SummaryOut, **ERRORS},
    summary="Headline numbers: open and overdue now, the period's 结案率 and 按期结案率",
)
def summary(request: HttpRequest, q: Query[PeriodIn]) -> Any:
    since, until = q.period()
    return selectors.summary(actor=actor(request), since=since, until=until, parent=q.parent)


class MapRegion(Out):
    code: str
    name: str
    value: float | None
    detail: dict[str, int] | None = Field(description="the counts the value is made of")
    href: str = Field(description="the next map level, or the list of what it counts")


class MapOut(Out):
    indicator: str
    label: str
    unit: str
    worse: Literal["high", "low", "none"]
    parent: str
    parent_name: str
    level: str
    since: dt.date
    until: dt.date
    regions: list[MapRegion]
    breaks: list[float] = Field(description="upper limits of the legend's classes")


class MapIn(PeriodIn):
    indicator: str = Field(
        "open", description="one of: " + ", ".join(selectors.INDICATORS), max_length=32
    )
    level: Literal["", "district", "street", "community", "grid"] = Field(
        "", description="the regions to colour (default: the children of parent)"
    )


@router.get(
    "/dashboard/map",
    url_name="dashboard_map",
    response={200: MapOut, **ERRORS},
    summary="One indicator per region, with the legend's classes",
)
def region_map(request: HttpRequest, q: Query[MapIn]) -> Any:
    since, until = q.period()
    return selectors.region_map(
        actor=actor(request),
        indicator=q.indicator,
        since=since,
        until=until,
        parent=q.parent,
        level=q.level,
    )


class IndicatorOption(Out):
    key: str
    label: str
    unit: str
    worse: str


@router.get(
    "/dashboard/indicators",
    url_name="dashboard_indicators",
    response={200: list[IndicatorOption], **ERRORS},
    summary="The map's indicators available to you",
)
def indicator_options(request: HttpRequest) -> Any:
    return selectors.indicator_options(actor=actor(request))


class TrendPoint(Out):
    day: dt.date = Field(description="the day, or the Monday of the week")
    reported: int
    closed: int
    reported_avg7: float
    closed_avg7: float
    close_rate: float | None
    on_time_rate: float | None


class TrendOut(Out):
    parent: str
    interval: str
    since: dt.date
    until: dt.date
    target_on_time_rate: float
    points: list[TrendPoint]


class TrendIn(PeriodIn):
    interval: Literal["day", "week"] = "day"


@router.get(
    "/dashboard/trend",
    url_name="dashboard_trend",
    response={200: TrendOut, **ERRORS},
    summary="Reported and closed per day or week with the 7-day average; rates against target",
)
def trend(request: HttpRequest, q: Query[TrendIn]) -> Any:
    since, until = q.period()
    return selectors.trend(
        actor=actor(request), since=since, until=until, parent=q.parent, interval=q.interval
    )


class CategoryRow(Out):
    category_id: int
    code: str
    name: str
    major: str
    reported: int
    href: str


class CategoriesOut(Out):
    since: dt.date
    until: dt.date
    parent: str
    categories: list[CategoryRow]
    other: int
    total: int


@router.get(
    "/dashboard/categories",
    url_name="dashboard_categories",
    response={200: CategoriesOut, **ERRORS},
    summary="The top 10 categories of the period",
)
def categories(request: HttpRequest, q: Query[PeriodIn]) -> Any:
    since, until = q.period()
    return selectors.categories(actor=actor(request), since=since, until=until, parent=q.parent)


class ChannelRow(CohortRates):
    channel: str
    name: str


class ChannelsOut(Out):
    since: dt.date
    until: dt.date
    parent: str
    channels: list[ChannelRow]


@router.get(
    "/dashboard/channels",
    url_name="dashboard_channels",
    response={200: ChannelsOut, **ERRORS},
    summary="The period's events by channel",
)
def channels(request: HttpRequest, q: Query[PeriodIn]) -> Any:
    since, until = q.period()
    return selectors.channels(actor=actor(request), since=since, until=until, parent=q.parent)


class DepartmentRow(CohortRates):
    department: str
    name: str


class DepartmentsOut(Schema):
    since: dt.date
    until: dt.date
    parent: str
    departments: list[DepartmentRow]


@router.get(
    "/dashboard/departments",
    url_name="dashboard_departments",
    response={200: DepartmentsOut, **ERRORS},
    summary="Workload per handling department",
)
def departments(request: HttpRequest, q: Query[PeriodIn]) -> Any:
    since, until = q.period()
    return selectors.departments(actor=actor(request), since=since, until=until, parent=q.parent)


class AgeBucket(Out):
    min_days: int
    max_days: int | None
    count: int
    label: str
    created_before: str | None
    created_since: str | None
    href: str


class AgeingOut(Out):
    parent: str
    buckets: list[AgeBucket]


class ParentIn(Schema):
    parent: str = Field("", max_length=15)


@router.get(
    "/dashboard/ageing",
    url_name="dashboard_ageing",
    response={200: AgeingOut, **ERRORS},
    summary="Open events by age in working days (live)",
)
def ageing(request: HttpRequest, q: Query[ParentIn]) -> Any:
    return selectors.ageing(actor=actor(request), parent=q.parent)


class RankPrevious(Out):
    on_time_rate: float | None
    overdue: int | None
    returned: int | None
    avg_handling_hours: float | None


class RankRow(Out):
    rank: int
    previous_rank: int | None
    code: str
    name: str
    should_close: int
    closed: int
    on_time_rate: float | None
    close_rate: float | None
    overdue: int
    returned: int
    avg_handling_hours: float | None
    previous: RankPrevious
    change: float | None = Field(description="按期结案率 now minus the previous period's")
    href: str


class RankingsOut(Out):
    level: str
    parent: str
    since: dt.date
    until: dt.date
    previous_since: dt.date
    rows: list[RankRow]


class RankingsIn(PeriodIn):
    level: Literal["street", "community", "grid"] = "street"


@router.get(
    "/dashboard/rankings",
    url_name="dashboard_rankings",
    response={200: RankingsOut, **ERRORS},
    summary="Streets, communities or grids ranked by 按期结案率, with the previous period",
)
def rankings(request: HttpRequest, q: Query[RankingsIn]) -> Any:
    since, until = q.period()
    return selectors.rankings(
        actor=actor(request), since=since, until=until, level=q.level, parent=q.parent
    )


class DrillRegion(Out):
    code: str
    name: str


class DrillOut(Out):
    code: str
    name: str
    path: list[DrillRegion]
    level: str
    children: list[DrillRegion]


@router.get(
    "/dashboard/regions",
    url_name="dashboard_regions",
    response={200: DrillOut, **ERRORS},
    summary="A region's path and children (the drill-down)",
)
def drill(request: HttpRequest, q: Query[ParentIn]) -> Any:
    return selectors.drill(actor=actor(request), code=q.parent)
