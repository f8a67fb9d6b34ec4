"""The simulated six months of history: when, where and what each event is (channels,
categories, busier and quieter grids, duplicates merged into an open event), opened as intake
opens it (`intake.opening`), its life through the workflow (`Lifecycle`), the deadline scan at
`now`, and the bulk writing of the events and their logs.

Points keep 80 m away from each grid's interior point (where tests report), so no demo event
is suggested as a duplicate of a test's report."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import shapely
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

from wangge.core.crypto import EncryptedField
from wangge.core.models import User
from wangge.demo.events.cases import (
    Actor,
    Case,
    Grid,
    aware,
    blank_event,
    load_categories,
    load_grids,
)
from wangge.demo.events.clock import WorkCalendar, WorkClock
from wangge.demo.events.lifecycle import Lifecycle
from wangge.demo.events.reference import (
    CALL_HOURS,
    CATEGORY_WEIGHTS,
    CHANNEL_BIAS,
    CHANNELS,
    CLEARING_M,
    DAYS,
    DIRECT,
    MINE,
    OFFICE_HOURS,
    PREFIX,
    REPORTERS,
    ROADS,
    TITLES,
    TRACKED,
    TRACKING_ALPHABET,
    VIDEO_CATEGORIES,
    S,
)
from wangge.demo.people import PeopleFactory
from wangge.events.calendar import Calendar
from wangge.events.intake import caller_index, opening
from wangge.events.models import OPEN_STATUSES, Channel, CloseKind, Event, EventAction, Tier


class History(Lifecycle):
    """Simulates `count` events over the `days` before `now`, then writes them in bulk."""

    def __init__(self, *, count: int, seed: int, now: dt.datetime, days: int = DAYS) -> None:
        self.rng = random.Random(seed)
        self.people = PeopleFactory(seed + 7)
        self.count = count
        self.now = int(now.timestamp())
        self.tz = timezone.get_current_timezone()
        self.start = self.now - days * 86400
        local_now = timezone.localtime(now)
        self.clock = WorkClock(
            Calendar(),
            local_now.date() - dt.timedelta(days=days + 3),
            local_now.date() + dt.timedelta(days=400),
        )
        self.calendar = WorkCalendar(self.clock)
        # Ids are given here, so merges name their target and the log rows need no read-back.
        top = Event.objects.dangerously_unscoped().aggregate(top=Max("id"))["top"] or 0
        self.first_id = top + 1
        self.users = dict(
            User.objects.filter(username__startswith="demo-").values_list("username", "pk")
        )
        self.grids = load_grids()
        self.categories = load_categories()
        self.departments = sorted({c.department for c in self.categories.values() if c.department})
        self.cases: list[Case] = []
        self._tracking: set[str] = set()
        self._pools: dict[str, list[tuple[float, float]]] = {}
        self._channel_cats = self._category_tables()

    # --- generation ------------------------------------------------------------------------

    def _category_tables(self) -> dict[str, tuple[list[str], list[float]]]:
        tables: dict[str, tuple[list[str], list[float]]] = {}
        for channel, _w in CHANNELS:
            codes, cum, total = [], [], 0.0
            for code, weight in CATEGORY_WEIGHTS.items():
                cat = self.categories.get(code)
                if cat is None:
                    continue
                if channel in {Channel.RESIDENT, Channel.OPEN311} and not cat.public:
                    continue
                if channel == Channel.VIDEO and code not in VIDEO_CATEGORIES:
                    continue
                w = weight * CHANNEL_BIAS.get(channel, {}).get(code, 1.0)
                if w <= 0:
                    continue
                total += w
                codes.append(code)
                cum.append(total)
            tables[channel] = (codes, cum)
        return tables

    def _created(self, channel: str) -> int:
        """A moment in the period: grid patrols in office hours on workdays mostly; calls and
        residents' reports any day from morning to late evening."""
        rng = self.rng
        while True:
            t = rng.randrange(self.start, self.now)
            local = dt.datetime.fromtimestamp(t, self.tz)
            day = local.date()
            if channel in DIRECT:
                if day not in self.clock.workdays and rng.random() > 0.15:
                    continue
                hour = rng.choices(*OFFICE_HOURS)[0]
            else:
                hour = rng.choices(*CALL_HOURS)[0]
            moment = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
            t = int(moment.timestamp())
            if self.start <= t < self.now:
                return t

    def point(self, grid: Grid) -> tuple[float, float]:
        pool = self._pools.setdefault(grid.code, [])
        while not pool:
            minx, miny, maxx, maxy = grid.geom.bounds
            # Rounded before the test: a point a centimetre from a boundary must not cross it.
            xs = [round(self.rng.uniform(minx, maxx), 7) for _ in range(64)]
            ys = [round(self.rng.uniform(miny, maxy), 7) for _ in range(64)]
            inside = shapely.contains_xy(grid.geom, xs, ys)
            kx = 111_320.0 * math.cos(math.radians(grid.inner[1]))
            for x, y, ok in zip(xs, ys, inside, strict=True):
                far = math.hypot((x - grid.inner[0]) * kx, (y - grid.inner[1]) * 111_320.0)
                if ok and far > CLEARING_M:
                    pool.append((x, y))
        return pool.pop()

    def _near(self, grid: Grid, lon: float, lat: float) -> tuple[float, float]:
        """A point within ~20 m of another, still in the grid and out of the clearing."""
        for _ in range(10):
            x = round(lon + self.rng.uniform(-1.5e-4, 1.5e-4), 7)
            y = round(lat + self.rng.uniform(-1.5e-4, 1.5e-4), 7)
            kx = 111_320.0 * math.cos(math.radians(grid.inner[1]))
            far = math.hypot((x - grid.inner[0]) * kx, (y - grid.inner[1]) * 111_320.0)
            if far > CLEARING_M and shapely.contains_xy(grid.geom, x, y):
                return x, y
        return lon, lat

    def address(self, grid: Grid) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            road = rng.choice(ROADS.get(grid.code[:9], ["江海路"]))
            return f"{grid.community}{road}{rng.randint(1, 180)}号附近"
        return f"{grid.community}{grid.code[-2:]}号小区{rng.randint(1, 12)}栋旁"

    def _tracking_code(self) -> str:
        while True:
            code = "".join(self.rng.choices(TRACKING_ALPHABET, k=10))
            if code not in self._tracking:
                self._tracking.add(code)
                return code

    def generate(self) -> None:
        rng = self.rng
        channels, channel_weights = zip(*CHANNELS, strict=True)
        grid_list = list(self.grids.values())
        grid_cum: list[float] = []
        total = 0.0
        for grid in grid_list:  # busier and quieter grids; demo-grid's a little busy
            total += rng.lognormvariate(0, 0.45) * (1.5 if grid.code == MINE else 1.0)
            grid_cum.append(total)
        plans = sorted(
            (self._created(ch), ch) for ch in rng.choices(channels, channel_weights, k=self.count)
        )
        recent: list[int] = []
        for created, channel in plans:
            target, merge_at = None, None
            if channel not in {Channel.ASSIGNED, Channel.VIDEO} and rng.random() < 0.02:
                merge_at = self.clock.add(created, rng.randint(5, 90))
                target = self._merge_target(recent, created, merge_at)
            if target is not None:
                base = self.cases[target]
                grid, cat = base.grid, base.cat
                if channel in {Channel.RESIDENT, Channel.OPEN311} and not cat.public:
                    channel = Channel.HOTLINE
                lon, lat = self._near(grid, base.event.lon or 0.0, base.event.lat or 0.0)
                title, address = base.event.title, base.event.address
            else:
                grid = rng.choices(grid_list, cum_weights=grid_cum)[0]
                codes, cum = self._channel_cats[channel]
                cat = self.categories[rng.choices(codes, cum_weights=cum)[0]]
                lon, lat = self.point(grid)
                title = rng.choice(TITLES.get(cat.code, [cat.name]))
                address = self.address(grid)
            reporter, tier = self._reporter(channel, grid)
            moment = aware(created)
            event = blank_event(
                cat.category,
                id=self.first_id + len(self.cases),
                title=title,
                description=f"{PREFIX[channel]}{address}{title}，请及时处理。",
                channel=channel,
                tier=tier,
                grid_code=grid.code,
                lon=lon,
                lat=lat,
                address=address,
                reporter_id=reporter[0],
                created_at=moment,
                **opening(cat.category, channel, now=moment, clock=self.calendar),
            )
            case = Case(
                event=event,
                cat=cat,
                grid=grid,
                created=created,
                reporter=reporter,
                merge_into=target,
                merge_at=merge_at,
                stuck=created > self.now - 75 * 86400 and rng.random() < 0.015,
            )
            if channel in TRACKED:
                event.tracking_code = self._tracking_code()
            if channel in {Channel.HOTLINE, Channel.RESIDENT}:
                event.reporter_phone = self.people.phone()
                event.reporter_phone_index = caller_index(event.reporter_phone)
                if channel == Channel.HOTLINE or rng.random() < 0.6:
                    gender = self.people.gender()
                    event.reporter_name = self.people.name(gender)
            self.cases.append(case)
            recent.append(len(self.cases) - 1)
            self._life(case)

    def _merge_target(self, recent: list[int], created: int, merge_at: int) -> int | None:
        """The latest event of the last three days still open when this one is merged."""
        for index in reversed(recent[-200:]):
            other = self.cases[index]
            if other.created < created - 3 * 86400:
                break
            if other.merge_into is None and other.end > merge_at:
                return index
        return None

    def _reporter(self, channel: str, grid: Grid) -> tuple[Actor, int]:
        """Who reports, and the tier the event starts at: an assignment from above starts at
        the assigner's (as intake does)."""
        if channel == Channel.PATROL:
            if grid.code == MINE:
                return self._user("demo-grid"), Tier.GRID
            return (None, f"{grid.name}网格员"), Tier.GRID
        if channel == Channel.ASSIGNED:
            tier = self.rng.choices([Tier.DISTRICT, Tier.STREET, Tier.COMMUNITY], [55, 30, 15])[0]
            return self._centre_at(grid, tier), tier
        return (None, REPORTERS[channel]), Tier.GRID

    # --- writing ------------------------------------------------------------------------------

    def finish(self) -> None:
        """The scan at `now`: every open event whose deadline has passed is marked."""
        for case in self.cases:
            self._mark(case, self.now)
            case.event.updated_at = aware(max(a[0] for a in case.actions))

    def write(self) -> None:
        """Insert the events and their logs with executemany: the ORM's bulk_create spends
        most of a second per thousand rows preparing values (the ledger's people import takes
        the same fast path). The values are the events' own fields, as Django would store them."""
        ops = connection.ops
        when, as_json = _adapters()
        fields = Event._meta.concrete_fields
        prepare = [_preparer(f, when, as_json) for f in fields]
        rows = [
            [p(case.event.__dict__[f.attname]) for f, p in zip(fields, prepare, strict=True)]
            for case in self.cases
        ]
        _insert(Event, [str(f.column) for f in fields], rows)
        actions = [
            [
                case.event.pk,
                when(at),
                actor_id,
                actor_name,
                action,
                str(before),
                str(after),
                reason,
                as_json(extra),
            ]
            for case in self.cases
            for at, actor_id, actor_name, action, before, after, reason, extra in case.actions
        ]
        columns = ["event_id", "at", "actor_id", "actor_name", "action", "from_status"]
        _insert(EventAction, [*columns, "to_status", "reason", "details"], actions)
        with connection.cursor() as cursor:
            for sql in ops.sequence_reset_sql(no_style(), [Event]):
                cursor.execute(sql)

    def counts(self) -> dict[str, Any]:
        events = [c.event for c in self.cases]
        closed = [e for e in events if e.status == S.CLOSED]
        return {
            "events": len(events),
            "actions": sum(len(c.actions) for c in self.cases),
            "by_status": dict(Counter(str(e.status) for e in events).most_common()),
            "by_channel": dict(Counter(str(e.channel) for e in events).most_common()),
            "closed_on_time": sum(1 for e in closed if e.close_kind == CloseKind.NORMAL),
            "closed_overdue": sum(1 for e in closed if e.close_kind == CloseKind.OVERDUE),
            "closed_special": sum(
                1 for e in closed if e.close_kind in {CloseKind.SPECIAL, CloseKind.ERRONEOUS}
            ),
            "self_resolved": sum(1 for e in events if e.self_resolved),
            "open": sum(1 for e in events if e.status in OPEN_STATUSES),
            "overdue": sum(1 for e in events if e.overdue),
            "open_overdue": sum(1 for e in events if e.overdue and e.status in OPEN_STATUSES),
            "returned": sum(1 for e in events if e.return_count),
            "reworked": sum(1 for e in events if e.rework_count),
            "extended": sum(1 for e in events if e.extend_count),
            "parked": sum(1 for e in events if e.park_count),
            "supervised": sum(1 for e in events if e.supervised),
            "callbacks": sum(1 for e in events if e.satisfaction is not None),
        }


def _adapters() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """A datetime (or Unix seconds) → the database's value, and a dict → its JSON value, as
    Django would write them; on SQLite without the per-value detour through the ORM (a third
    of the write time): UTC text `YYYY-MM-DD HH:MM:SS` and `json.dumps`."""
    ops = connection.ops
    if connection.vendor == "sqlite":

        def when(t: Any) -> Any:
            if t is None:
                return None
            seconds = t if isinstance(t, int) else int(t.timestamp())
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))

        return when, json.dumps

    def when_aware(t: Any) -> Any:
        if t is None:
            return None
        return ops.adapt_datetimefield_value(aware(t) if isinstance(t, int) else t)

    return when_aware, lambda value: ops.adapt_json_value(value, None)


def _preparer(
    field: Any, when: Callable[[Any], Any], as_json: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """How one field's in-memory value becomes its column value."""
    if isinstance(field, EncryptedField):
        return lambda v: field.get_db_prep_save(v, connection) if v else ""
    if isinstance(field, models.DateTimeField):
        return when
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else as_json(v)
    if isinstance(field, models.CharField | models.TextField):
        return lambda v: None if v is None else str(v)
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else bool(v)
    if isinstance(field, models.IntegerField):  # also the ids and the small counters
        return lambda v: None if v is None else int(v)
    return lambda v: v


def _insert(model: Any, columns: list[str], rows: list[list[Any]], batch: int = 5000) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - identifiers from model metadata
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(rows), batch):
            cursor.executemany(sql, rows[i : i + batch])
