"""The dashboard's facts: the same numbers as the indicators (one definition), for every role
and dimension; idempotent rebuilds; the facts follow the workflow within a worker cycle while
the live numbers move at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.world import USERS, grid_codes
from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.dashboard import facts, selectors
from wangge.dashboard.models import CUBES, FactState
from wangge.events import selectors as events
from wangge.events.intake import Report, event_report
from wangge.events.models import OPEN_STATUSES, Event, Status
from wangge.events.tests.factories import history, local
from wangge.regions.selectors import interior_point_unscoped

pytestmark = pytest.mark.django_db

START = local(2026, 6, 1)
OFFICERS = [u for u, _g in USERS if u != "demo-auditor"]


@pytest.fixture
def world() -> list[Event]:
    made = history(grid_codes(), n=400, start=START, days=45)
    facts.facts_rebuild()
    return made


def who(username: str) -> Any:
    return scope_for(User.objects.get(username=username))


def _aware(day: dt.date) -> dt.datetime:
    return local(day.year, day.month, day.day)


PERIODS = [
    (dt.date(2026, 6, 1), dt.date(2026, 7, 16)),  # all of the history
    (dt.date(2026, 6, 10), dt.date(2026, 6, 17)),  # one week
    (dt.date(2026, 6, 3), dt.date(2026, 6, 4)),  # one day
]


@pytest.mark.parametrize("username", OFFICERS)
def test_facts_give_the_indicators_numbers(world: Any, username: str) -> None:
    actor = who(username)
    for by in ("department", "street", "community", "grid"):
        for since, until in PERIODS:
            expected = events.indicators(
                actor=actor, by=by, since=_aware(since), until=_aware(until)
            )
            got = selectors.indicators(actor=actor, by=by, since=since, until=until)
            assert got == expected, (username, by, since)
        # The history is big enough that every role sees something.
        assert expected


def test_summary_equals_the_indicators_total(world: Any) -> None:
    actor = who("demo-street")
    since, until = PERIODS[0]
    rows = events.indicators(actor=actor, by="grid", since=_aware(since), until=_aware(until))
    total = events.indicators_total(rows)
    period = selectors.summary(actor=actor, since=since, until=until)["period"]
    for key in ("should_close", "closed", "closed_on_time", "overdue", "returned", "close_rate"):
        assert period[key] == total[key], key
    assert period["should_close"] > 0
    # Reported counts every event created, filed or not.
    created = events.event_list(actor=actor, since=_aware(since), until=_aware(until)).count()
    assert period["reported"] == created > period["should_close"]


def test_rebuilding_is_idempotent(world: Any) -> None:
    def rows() -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for name, (model, _dims, _measures, _levels) in CUBES.items():
            fields = [f.name for f in model._meta.fields if f.name != "id"]
            out[name] = sorted(model.objects.dangerously_unscoped().values_list(*fields))
        return out

    first = rows()
    facts.facts_rebuild()
    facts.facts_rebuild(dt.date(2026, 6, 10), dt.date(2026, 6, 12))
    facts.facts_refresh()
    assert rows() == first
    assert all(len(r) > 100 for r in first.values())
    # Every level of every cube sums to the number of events.
    events_count = Event.objects.dangerously_unscoped().count()
    for name, (model, _dims, _measures, levels) in CUBES.items():
        assert set(model.objects.dangerously_unscoped().values_list("level", flat=True)) == set(
            levels
        ), name
        for level in levels:
            reported = sum(
                model.objects.dangerously_unscoped()
                .filter(level=level)
                .values_list("reported", flat=True)
            )
            assert reported == events_count, (name, level)


@pytest.mark.parametrize("cube", ["department", "channel", "category"])
def test_each_cube_counts_the_events_of_its_dimension(world: Any, cube: str) -> None:
    """A narrow cube's rows, at every level, are the events counted per region, day,
    department queue and the cube's dimension (reported; and the cohort's should-close and
    closed on time where it keeps them)."""
    from collections import Counter

    model, dims, measures, levels = CUBES[cube]
    (dim,) = dims
    tz = timezone.get_current_timezone()
    evs = list(Event.objects.dangerously_unscoped().order_by())
    assert len({getattr(e, dim) for e in evs}) > 1  # the history varies the dimension
    for level in levels:
        want: Counter[tuple[Any, ...]] = Counter()
        on_time: Counter[tuple[Any, ...]] = Counter()
        for e in evs:
            key = (
                e.grid_code[:level],
                timezone.localtime(e.created_at, tz).date(),
                e.department_code or "",
                getattr(e, dim) if dim == "category_id" else getattr(e, dim) or "",
            )
            want[key] += 1
            if e.status == Status.CLOSED and e.on_time:
                on_time[key] += 1
        rows = model.objects.dangerously_unscoped().filter(level=level)
        got = {(r.region_code, r.day, r.department_code, getattr(r, dim)): r.reported for r in rows}
        assert got == dict(want), (cube, level)
        if "closed_on_time" in measures:
            kept = {
                (r.region_code, r.day, r.department_code, getattr(r, dim)): r.closed_on_time
                for r in rows
                if r.closed_on_time
            }
            assert kept == dict(on_time), (cube, level)


def test_facts_follow_the_workflow_and_live_numbers_move_at_once(world: Any) -> None:
    actor = who("demo-street")
    today = timezone.localdate()
    since, until = selectors.default_period()
    before = selectors.summary(actor=actor, since=since, until=until)
    lon, lat = interior_point_unscoped("440704003001001")
    report = Report(category="0102", title="新上报", lon=lon, lat=lat)
    event = event_report(who("demo-grid"), report).event  # through intake, as a worker does
    after = selectors.summary(actor=actor, since=since, until=until)
    assert after["now"]["open"] == before["now"]["open"] + (event.status in OPEN_STATUSES)
    assert after["period"]["reported"] == before["period"]["reported"]  # facts not yet
    result = facts.facts_refresh()
    assert result["days"] >= 1
    followed = selectors.summary(actor=actor, since=since, until=until)
    assert followed["period"]["reported"] == before["period"]["reported"] + 1
    assert today.isoformat() <= followed["until"]


def test_refresh_sees_what_the_scan_changed(world: Any) -> None:
    state = FactState.objects.get(name=facts.STATE)
    # An old open event becomes overdue in the scan: its `updated_at` moves, its created day's
    # facts are rebuilt.
    event = (
        Event.objects.dangerously_unscoped()
        .filter(status=Status.DISPATCHED, overdue=False)
        .order_by("id")
        .first()
    )
    assert event is not None
    day = facts.local_day(event.created_at)
    since, until = day, day + dt.timedelta(days=1)
    actor = who("demo-district")
    overdue_before = selectors.summary(actor=actor, since=since, until=until)["period"]["overdue"]
    assert state.events_seen_until is not None
    moved = state.events_seen_until + dt.timedelta(seconds=1)
    Event.objects.dangerously_unscoped().filter(pk=event.pk).update(overdue=True, updated_at=moved)
    facts.facts_refresh(now=moved + dt.timedelta(seconds=1))
    overdue_after = selectors.summary(actor=actor, since=since, until=until)["period"]["overdue"]
    assert overdue_after == overdue_before + 1


def test_figures_are_taken_per_grid(world: Any) -> None:
    n = facts.figures_refresh()
    assert n > len(grid_codes())
    actor = who("demo-community")
    since, until = PERIODS[0]
    per_1000 = selectors.region_map(
        actor=actor, indicator="per_1000", since=since, until=until, level="grid"
    )
    codes = {r["code"] for r in per_1000["regions"]}
    assert codes and all(c.startswith("440704003001") for c in codes)
    for region in per_1000["regions"]:
        d = region["detail"]
        assert region["value"] == round(1000 * d["reported"] / d["residents"], 2)
    leaders = selectors.region_map(
        actor=who("demo-district"), indicator="no_leader", since=since, until=until
    )
    assert {r["code"][:6] for r in leaders["regions"]} == {"440704"}


@pytest.mark.parametrize(
    "username", ["demo-district", "demo-street", "demo-community", "demo-grid"]
)
def test_channels_and_categories_add_up_at_every_level(world: Any, username: str) -> None:
    """Channels and categories come from their cubes down to streets and from the events
    below (a community's, a grid's): at every level they add up to the period's reported
    events of the main cube, and per channel to the events themselves."""
    from collections import Counter

    actor = who(username)
    since, until = PERIODS[0]
    reported = selectors.summary(actor=actor, since=since, until=until)["period"]["reported"]
    assert reported > 0
    chans = selectors.channels(actor=actor, since=since, until=until)["channels"]
    cats = selectors.categories(actor=actor, since=since, until=until)
    assert sum(c["reported"] for c in chans) == reported == cats["total"]
    assert sum(c["reported"] for c in cats["categories"]) + cats["other"] == reported
    seen = events.event_list(actor=actor, since=_aware(since), until=_aware(until))
    assert {c["channel"]: c["reported"] for c in chans} == dict(
        Counter(seen.values_list("channel", flat=True))
    )
    should = {c["channel"]: c["should_close"] for c in chans}
    assert (
        sum(should.values())
        == selectors.summary(actor=actor, since=since, until=until)["period"]["should_close"]
    )
