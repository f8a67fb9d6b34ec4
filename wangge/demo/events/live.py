"""The live cases, through the real services: reported a few working days ago through the real
intake, workflow and deadline scan, so that every demo role opens an inbox with one overdue case
waiting for it: demo-grid (a small matter in its grid), demo-community and demo-street
(escalated to their tier), demo-district (escalated to the district) and demo-dept (dispatched
to 城管, past its handling deadline); and one case waiting for demo-grid to verify."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.demo.events.cases import aware
from wangge.demo.events.history import History
from wangge.demo.events.reference import MINE, PREFIX, TITLES
from wangge.events.intake import Report, event_report
from wangge.events.models import Channel, Event
from wangge.events.public import RESIDENT
from wangge.events.scan import MARKABLE, scan
from wangge.events.workflow import transition


def live_cases(history: History, now: dt.datetime) -> tuple[dict[str, int], dict[str, int]]:
    """Cases reported a few working days ago through the real intake and workflow, with the
    deadline scan run a minute after each deadline (as the worker would have), so each demo
    role has one overdue case waiting for it. Returns the events made and the scans' counts."""
    clock = history.clock
    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    made: dict[str, int] = {}
    scanned: Counter[str] = Counter()

    def who(username: str) -> Scope:
        return scope_for(users[username])

    today = timezone.localtime(now).date()
    workdays = sorted(d for d in clock.workdays if d < today)

    def day(k: int, hour: int, minute: int = 0) -> dt.datetime:
        """`hour:minute` on the k-th workday before today."""
        moment = dt.datetime.combine(workdays[-k], dt.time(hour, minute))
        return timezone.make_aware(moment, timezone.get_current_timezone())

    def catch_up(until: dt.datetime) -> None:
        """The scans the worker ran before `until`: one a minute after each passed deadline
        (the history's deadlines before now are marked already, so these see only ours)."""
        while True:
            due = (
                Event.objects.dangerously_unscoped()
                .filter(pk__in=made.values(), status__in=list(MARKABLE), due_at__lt=until)
                .filter(Q(overdue_marked_for__isnull=True) | Q(overdue_marked_for__lt=F("due_at")))
                .order_by("due_at")
                .values_list("due_at", flat=True)
                .first()
            )
            if due is None:
                return
            scanned.update(scan(now=min(due + dt.timedelta(minutes=1), until)))

    def report(
        name: str, actor: Any, grid: str, category: str, channel: str, at: dt.datetime, **kw: Any
    ) -> Event:
        catch_up(at)
        lon, lat = history.point(history.grids[grid])
        title = TITLES.get(category, [category])[0]
        r = Report(
            category=category,
            title=title,
            description=f"{PREFIX[channel]}{title}",
            lon=lon,
            lat=lat,
            channel=channel,
            address=history.address(history.grids[grid]),
            **kw,
        )
        event = event_report(actor, r, now=at).event
        made[name] = event.pk
        return event

    def act(actor: Any, event: Event, action: str, at: dt.datetime, **kw: Any) -> Event:
        catch_up(at)
        return transition(actor, event, action, now=at, **kw)

    district, street, dept = who("demo-district"), who("demo-street"), who("demo-dept")
    # In time order. demo-district: a road dig reported on 12345 ten workdays ago, accepted
    # late, dispatched late and never finished: three deadlines missed, escalated to the
    # district (and overdue in 城管's queue too).
    e4 = report(
        "district",
        district,
        "440704001002001",
        "0302",
        Channel.HOTLINE,
        day(10, 9),
        reporter_name="黄先生",
        reporter_phone="13902290001",
    )
    act(district, e4, "accept", day(9, 10))
    act(district, e4, "dispatch", day(8, 10), department="chengguan")
    # demo-street: a fire hazard in 南村 reported by the street and dispatched to 应急管理 a
    # day late; both deadlines missed: community, then street.
    e3 = report("street", street, "440704003002001", "0701", Channel.PATROL, day(6, 9))
    act(street, e3, "dispatch", day(5, 10, 30), department="yingji")
    # demo-dept: dust from a building site, assigned from above, dispatched to 城管 and being
    # handled, past its one-day limit.
    e5 = report("dept", district, "440704002003001", "0303", Channel.ASSIGNED, day(4, 9))
    act(district, e5, "dispatch", day(4, 9, 20), department="chengguan")
    act(dept, e5, "handle", day(4, 11))
    # demo-grid: exposed refuse it reported itself and has not cleared (小事不出网格).
    report("grid", who("demo-grid"), MINE, "0102", Channel.PATROL, day(3, 9, 40))
    # demo-community: a resident's report waiting for acceptance since two workdays ago.
    report(
        "community",
        RESIDENT,
        "440704003001002",
        "0403",
        Channel.RESIDENT,
        day(2, 10, 15),
        reporter_phone="13800138000",
    )
    # Not overdue: handled by 城管 just now, waiting for demo-grid to verify on site.
    now_t = int(now.timestamp())

    def ago(minutes: int) -> dt.datetime:
        return aware(clock.back(now_t, minutes))

    e6 = report("verify", who("demo-grid"), MINE, "0104", Channel.PATROL, ago(120))
    act(who("demo-community"), e6, "dispatch", ago(100), department="chengguan")
    act(dept, e6, "handle", ago(80))
    act(dept, e6, "report", ago(10), note="已打捞清理")
    catch_up(now)
    return made, dict(scanned)
