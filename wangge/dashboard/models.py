"""The command centre's facts: events pre-aggregated per day at four region levels, and the
other modules' per-grid figures. See docs/architecture.md, "Dashboard"."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from wangge.core.scope import ScopedModel

# The region levels facts are kept at: the length of the region code.
LEVELS = (6, 9, 12, 15)


# The counts an `EventFact` keeps: of the events created on its day (the cohort, counted as the
# indicators count them) and of those closed on it (the flow). Read and written by these names.
COHORT = (
    "reported",
    "should_close",
    "closed",
    "closed_on_time",
    "overdue",
    "returned",
    "reworked",
    "extended",
    "parked",
    "handling_seconds",
    "handled",
)
FLOW = ("closed_on_day", "closed_on_time_on_day")
MEASURES = COHORT + FLOW


class Fact(ScopedModel):
    """What every fact row has: the region at one level, the day, the department queue.
    Scoped like the events it counts."""

    scope_code_field: ClassVar[str | None] = "region_code"
    scope_department_field: ClassVar[str | None] = "department_code"

    level = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=15)
    day = models.DateField()
    department_code = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True


class CohortFact(Fact):
    """What a narrow cube counts of the events created on its day (the cohort measures)."""

    reported = models.PositiveIntegerField(default=0)
    should_close = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    parked = models.PositiveIntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class EventFact(CohortFact):
    """The main cube: counts of the events created on `day` (the cohort: the indicators'
    definition) and of those closed on `day` (the flow), for one region at one level and one
    department queue. The summary, the map, the trend, the rankings and the indicators read it."""

    closed_on_day = models.PositiveIntegerField(default=0)
    closed_on_time_on_day = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["level", "day", "region_code", "department_code"],
                name="dash_fact_level_day_idx",
            ),
        ]


class EventDepartmentFact(CohortFact):
    """The cohort per handling department: the workload chart and the indicators by
    department."""

    handler_department = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["level", "day", "region_code"], name="dash_dept_level_day_idx"),
        ]


class EventChannelFact(CohortFact):
    """The cohort per channel (grid worker, 12345 hotline, resident …)."""

    channel = models.CharField(max_length=16)

    class Meta:
        indexes = [
            models.Index(fields=["level", "day", "region_code"], name="dash_chan_level_day_idx"),
        ]


class EventCategoryFact(Fact):
    """Events created on `day` per category, for the top-10 chart."""

    category_id = models.IntegerField()
    reported = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["level", "day", "region_code"], name="dash_cat_level_day_idx"),
        ]


# The cubes: each adds one event dimension (or none) to (level, region, day, department
# queue), keeps some measures, at some levels. One statement per cube writes a run of days
# (see facts.py). Channels and categories are kept down to streets only: at community and grid
# level they would hold about a row per event (a grid has a few events a day, spread over ~100
# categories), so there the selectors count the few events under the region directly.
CUBES: dict[str, tuple[type[Fact], tuple[str, ...], tuple[str, ...], tuple[int, ...]]] = {
    "main": (EventFact, (), MEASURES, LEVELS),
    "department": (EventDepartmentFact, ("handler_department",), COHORT, LEVELS),
    "channel": (EventChannelFact, ("channel",), COHORT, (6, 9)),
    "category": (EventCategoryFact, ("category_id",), ("reported",), (6, 9)),
}


class GridFigure(ScopedModel):
    """One figure of one grid from another module (residents, grids without a leader …), as
    the worker last counted it; `taken_at` says when."""

    scope_code_field: ClassVar[str | None] = "grid_code"

    grid_code = models.CharField(max_length=15)
    key = models.CharField(max_length=32)
    value = models.FloatField()
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grid_code", "key"], name="dash_figure_unique"),
        ]
        indexes = [models.Index(fields=["key", "grid_code"], name="dash_figure_key_idx")]


class FactState(models.Model):
    """The facts' watermark: events updated before `events_seen_until` are in the facts."""

    scope_exempt: ClassVar[str] = "the worker's bookkeeping: one row, no personal data"

    name = models.CharField(max_length=32, unique=True)
    events_seen_until = models.DateTimeField(null=True, blank=True)
    figures_taken_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.events_seen_until}"
