"""The demo's six months of events: a plausible mix, consistent fields, and one live overdue
case in each demo role's inbox (the demo is built once per session by the root conftest)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from wangge.core.audit import AuditEntry
from wangge.core.models import User
from wangge.core.roles import Perm
from wangge.core.scope import Scope, scope_for
from wangge.demo.events import DAYS, History, WorkClock
from wangge.events import selectors
from wangge.events.calendar import Calendar
from wangge.events.models import (
    OPEN_STATUSES,
    Channel,
    CloseKind,
    Event,
    EventAction,
    Status,
    Tier,
)
from wangge.regions.locate import grid_index
from wangge.regions.models import Level, Region

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def events() -> list[Event]:
    return list(Event.objects.dangerously_unscoped().select_related("category__parent"))


def test_status_and_channel_mix_is_plausible() -> None:
    all_ = events()
    n = len(all_)
    assert n >= 5000
    status = Counter(e.status for e in all_)
    channel = Counter(e.channel for e in all_)
    assert {c.value for c in Channel} - {Channel.PETITION} <= set(channel)
    assert 0.5 < channel[Channel.PATROL] / n < 0.7
    assert 0.15 < channel[Channel.HOTLINE] / n < 0.25
    assert 0.06 < channel[Channel.RESIDENT] / n < 0.14
    assert channel[Channel.VIDEO] / n < 0.05
    assert status[Status.CLOSED] / n > 0.6
    assert 0 < status[Status.REJECTED] / n < 0.06
    assert 0 < status[Status.MERGED] / n < 0.04
    assert status[Status.PARKED] > 0
    assert sum(status[s] for s in OPEN_STATUSES) > 20  # some still open
    assert sum(1 for e in all_ if e.overdue and e.status in OPEN_STATUSES) > 5
    closed = [e for e in all_ if e.status == Status.CLOSED]
    late = sum(1 for e in closed if e.close_kind == CloseKind.OVERDUE)
    assert 0.04 < late / len(closed) < 0.12
    for counter in ("return_count", "rework_count", "extend_count", "park_count"):
        assert sum(1 for e in all_ if getattr(e, counter)) > 10, counter
    assert sum(1 for e in all_ if e.self_resolved) > n / 4
    assert sum(1 for e in closed if e.satisfaction) > len(closed) / 4
    majors = Counter(e.category.parent.name for e in all_ if e.category.parent)
    top_two = {name for name, _n in majors.most_common(2)}
    assert top_two == {"市容环境", "街面秩序"}
    assert 0 < majors["突发事件"] / n < 0.03
    assert 0 < majors["信访"] / n < 0.04
    reasons = set(
        Event.objects.dangerously_unscoped()
        .filter(status=Status.REJECTED)
        .values_list("actions__reason", flat=True)
    )
    assert {"属于110警情，已告知来电人拨打110", "已在诉讼程序中，按规定不予受理"} <= reasons


def test_public_channels_only_carry_public_categories() -> None:
    qs = Event.objects.dangerously_unscoped().filter(
        channel__in=[Channel.RESIDENT, Channel.OPEN311], category__public=False
    )
    assert not qs.exists()


def test_every_point_locates_to_its_grid() -> None:
    grids = set(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .values_list("code", flat=True)
    )
    rows = list(Event.objects.dangerously_unscoped().values_list("grid_code", "lon", "lat"))
    assert {code for code, _x, _y in rows} <= grids
    index = grid_index()
    found = index.codes_for(index.locate([r[1] for r in rows], [r[2] for r in rows]))
    assert found == [code for code, _x, _y in rows]


def test_history_spans_six_months_mostly_in_working_hours() -> None:
    now = timezone.now()
    qs = Event.objects.dangerously_unscoped()
    oldest = qs.order_by("created_at").values_list("created_at", flat=True).first()
    assert oldest is not None
    assert now - dt.timedelta(days=DAYS + 1) <= oldest < now - dt.timedelta(days=DAYS - 7)
    cal = Calendar()
    patrol = [
        timezone.localtime(t)
        for t in qs.filter(channel=Channel.PATROL).values_list("created_at", flat=True)
    ]
    in_hours = sum(1 for t in patrol if cal.is_workday(t.date()) and 8 <= t.hour < 18)
    assert in_hours / len(patrol) > 0.75


def test_deadlines_and_times_are_consistent() -> None:
    built = dt.datetime.fromisoformat(AuditEntry.objects.get(action="demo.events").details["now"])
    for e in events():
        assert e.updated_at >= e.created_at
        if e.filed_at:
            assert e.filed_at >= e.created_at
        if e.dispatched_at:
            assert e.handle_due_at is not None and e.handle_due_at > e.dispatched_at
        if e.status == Status.CLOSED:
            assert e.closed_at is not None and e.closed_at >= e.created_at
            assert e.due_at is None
            assert e.handling_seconds == int(
                (e.closed_at - (e.filed_at or e.created_at)).total_seconds()
            )
            if e.close_kind in {CloseKind.NORMAL, CloseKind.OVERDUE}:
                on_time = e.handle_due_at is None or (
                    e.reported_at is not None and e.reported_at <= e.handle_due_at
                )
                assert e.on_time is on_time
                assert (e.close_kind == CloseKind.NORMAL) is on_time
            else:
                assert e.on_time is None
        else:
            assert e.closed_at is None and e.close_kind == ""
        assert e.department_code in {"", e.handler_department}
        if e.status in {Status.DISPATCHED, Status.HANDLING}:
            assert e.department_code == e.handler_department != ""
        if e.status in {Status.PENDING, Status.FILED, Status.RETURNED}:
            assert e.department_code == ""
        if e.status in {Status.REJECTED, Status.MERGED, Status.PARKED, Status.VERIFIED}:
            assert e.due_at is None
        if e.status == Status.MERGED:
            target = e.merged_into
            assert target is not None
            assert (target.grid_code, target.category_id) == (e.grid_code, e.category_id)
        if e.overdue:
            assert e.overdue_marked_for is not None
        if e.status in OPEN_STATUSES and e.due_at and e.due_at < built:
            # the scan has seen every passed deadline
            assert e.overdue and e.overdue_marked_for == e.due_at, e.pk


def test_counters_match_the_log() -> None:
    """Every step is one log line and one version (the report is version 0); the counters are
    what the log says."""
    qs = Event.objects.dangerously_unscoped().annotate(
        n_actions=Count("actions"),
        n_return=Count("actions", filter=Q(actions__action="return")),
        n_rework=Count(
            "actions",
            filter=Q(
                actions__action="verify", actions__to_status__in=[Status.FILED, Status.DISPATCHED]
            ),
        ),
        n_extend=Count("actions", filter=Q(actions__action="extend")),
        n_park=Count("actions", filter=Q(actions__action="park")),
        n_marks=Count("actions", filter=Q(actions__action__in=["escalate", "overdue"])),
        n_escalate=Count("actions", filter=Q(actions__action="escalate")),
    )
    assert not qs.exclude(n_actions=F("version") + 1).exists()
    assert not qs.exclude(return_count=F("n_return")).exists()
    assert not qs.exclude(rework_count=F("n_rework")).exists()
    assert not qs.exclude(extend_count=F("n_extend")).exists()
    assert not qs.exclude(park_count=F("n_park")).exists()
    assert not qs.filter(overdue=True, n_marks=0).exists()
    assert not qs.filter(overdue=False, n_marks__gt=0).exists()
    # Each mark raises one tier up to the district; an assignment starts at the assigner's.
    assert not qs.exclude(channel=Channel.ASSIGNED).exclude(tier=F("n_escalate")).exists()
    assert not qs.exclude(n_marks=F("n_escalate")).exclude(tier=Tier.DISTRICT).exists()
    assigned = Counter(
        qs.filter(channel=Channel.ASSIGNED, n_escalate=0).values_list("tier", flat=True)
    )
    assert set(assigned) == {Tier.COMMUNITY, Tier.STREET, Tier.DISTRICT}


def test_reporters_encrypted_and_tracking_codes() -> None:
    qs = Event.objects.dangerously_unscoped()
    hotline = qs.filter(channel=Channel.HOTLINE).order_by("pk").first()
    assert hotline is not None
    assert 2 <= len(hotline.reporter_name) <= 4
    assert hotline.reporter_phone.isdigit() and len(hotline.reporter_phone) == 11
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_name, reporter_phone FROM events_event WHERE id = %s", [hotline.pk]
        )
        raw_name, raw_phone = cursor.fetchone()
    assert hotline.reporter_name not in raw_name and hotline.reporter_phone not in raw_phone
    assert not qs.filter(channel=Channel.PATROL).exclude(reporter_phone="").exists()
    tracked = [Channel.HOTLINE, Channel.RESIDENT, Channel.OPEN311]
    codes = list(qs.filter(channel__in=tracked).values_list("tracking_code", flat=True))
    assert all(c and len(c) == 10 for c in codes)
    assert len(set(codes)) == len(codes)
    assert not qs.exclude(channel__in=tracked).filter(tracking_code__isnull=False).exists()


def test_working_clock_equals_the_calendar() -> None:
    cal = Calendar()
    now = timezone.now()
    local = timezone.localtime(now).date()
    clock = WorkClock(cal, local - dt.timedelta(days=200), local + dt.timedelta(days=200))
    rng = random.Random(7)
    for _ in range(300):
        t = int(now.timestamp()) - rng.randrange(180 * 86400)
        minutes = rng.choice([1, 30, 60, 240, 300, 420, 840, 2100, 6300])
        start = dt.datetime.fromtimestamp(t, dt.UTC)
        assert clock.add(t, minutes) == int(cal.add(start, minutes, "minute").timestamp())
        assert clock.back(clock.add(t, minutes), minutes) == clock.moment(clock.position(t))


@pytest.mark.parametrize(
    ("username", "tier"),
    [
        ("demo-grid", None),
        ("demo-community", Tier.COMMUNITY),
        ("demo-street", Tier.STREET),
        ("demo-district", Tier.DISTRICT),
        ("demo-dept", None),
    ],
)
def test_every_role_has_a_live_overdue_case(username: str, tier: int | None) -> None:
    user = User.objects.get(username=username)
    scope = scope_for(user)
    overdue = list(selectors.event_list(actor=user, box="overdue"))
    assert overdue
    for event in overdue:
        assert event.overdue and event.status in OPEN_STATUSES
        assert scope.covers(event.grid_code, Perm.EVENTS_VIEW)
    grant = user.grants.get()
    if tier is not None:  # escalated to the officer's own tier, in its own region
        assert any(e.tier == tier and e.grid_code.startswith(grant.region_code) for e in overdue)
    if username == "demo-dept":
        assert {e.department_code for e in overdue} == {"chengguan"}
        assert any(e.status in {Status.DISPATCHED, Status.HANDLING} for e in overdue)
    if username == "demo-grid":
        todo = selectors.event_list(actor=user, box="todo")
        assert todo.filter(overdue=True, status=Status.FILED, grid_code=grant.region_code)


def test_demo_grid_has_an_event_to_verify() -> None:
    user = User.objects.get(username="demo-grid")
    waiting = selectors.event_list(actor=user, box="verify")
    assert waiting.filter(overdue=False).exists()


def test_indicators_by_street() -> None:
    rows = selectors.indicators(actor=Scope.system("t"), by="street")
    assert [r["key"] for r in rows] == ["440704001", "440704002", "440704003"]
    for row in rows:
        assert 0.5 <= row["close_rate"] <= 1
        assert 0.5 <= row["on_time_rate"] <= row["close_rate"]
        assert row["returned"] and row["reworked"] and row["overdue"]
        assert row["avg_handling_hours"] and row["avg_handling_hours"] > 0


def test_one_summary_audit_entry() -> None:
    entries = AuditEntry.objects.filter(action="demo.events")
    assert entries.count() == 1
    details = entries.get().details
    assert details["events"] + len(details["live"]) == Event.objects.dangerously_unscoped().count()
    assert details["scan"]["overdue_marked"] >= 4


def test_history_is_deterministic() -> None:
    now = dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)

    def run() -> list[tuple[object, ...]]:
        history = History(count=300, seed=11, now=now)
        history.generate()
        history.finish()
        return [
            (
                c.created,
                c.grid.code,
                c.cat.code,
                c.event.channel,
                c.event.status,
                c.event.lon,
                c.event.tracking_code,
            )
            for c in history.cases
        ] + [tuple(a) for c in history.cases for a in c.actions]

    assert run() == run()


def test_the_history_follows_the_rule_table() -> None:
    """Every step in the history is an action of the table, taken from one of its statuses,
    leading where the table says; the scan's marks leave the status alone."""
    from wangge.events.rules import RULES

    steps = set(
        EventAction.objects.dangerously_unscoped()
        .exclude(action="intake")
        .values_list("action", "from_status", "to_status")
        .distinct()
    )
    assert {a for a, _f, _t in steps} == set(RULES) | {"escalate", "overdue"}
    for action, before, after in steps:
        if action in {"escalate", "overdue"}:
            assert before == after, action
            continue
        rule = RULES[action]
        assert before in rule.sources, (action, before)
        if rule.to is not None:
            assert after == rule.to, (action, after)


def test_a_workflow_change_changes_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """The history takes its steps through the workflow's table: take an action away from a
    status there, and the simulation is refused at its first such step instead of writing a
    history the workflow could not have made."""
    import dataclasses

    from wangge.demo.events.lifecycle import DemoRuleBroken
    from wangge.events.rules import RULES

    narrowed = dataclasses.replace(RULES["report"], sources=(Status.DISPATCHED,))
    monkeypatch.setitem(RULES, "report", narrowed)
    history = History(count=300, seed=11, now=dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC))
    with pytest.raises(DemoRuleBroken, match="report on a handling event"):
        history.generate()
