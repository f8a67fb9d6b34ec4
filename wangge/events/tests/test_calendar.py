"""The working calendar: office hours, weekends, official holidays and 调休, overrides, and
deadlines frozen at dispatch."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from wangge.core.officehours import parse_office_hours
from wangge.core.scope import Scope
from wangge.events import services
from wangge.events.calendar import Calendar, official_workday

pytestmark = pytest.mark.django_db
CN = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CN)


def test_hours_skip_lunch_and_evening() -> None:
    cal = Calendar()
    # Thursday 2026-11-26 11:00 + 2 working hours: 1 h before lunch, 1 h after 14:00.
    assert cal.add(at(2026, 11, 26, 11, 0), 2, "hour") == at(2026, 11, 26, 15, 0)
    # 17:00 + 1 hour: 30 min today, 30 min tomorrow morning.
    assert cal.add(at(2026, 11, 26, 17, 0), 1, "hour") == at(2026, 11, 27, 9, 0)
    # Reported at night: the clock starts at 08:30 next morning.
    assert cal.add(at(2026, 11, 26, 22, 0), 30, "minute") == at(2026, 11, 27, 9, 0)


def test_weekend_is_skipped() -> None:
    cal = Calendar()
    # Friday 2026-11-27 16:00 + 1 working day (7 office hours) → Monday 16:00.
    assert cal.add(at(2026, 11, 27, 16, 0), 1, "day") == at(2026, 11, 30, 16, 0)


def test_national_day_and_make_up_workdays() -> None:
    # 2026: 1–7 October are holidays; Sunday 20 September and Saturday 10 October are worked.
    assert not official_workday(dt.date(2026, 10, 1))
    assert official_workday(dt.date(2026, 10, 10))
    assert official_workday(dt.date(2026, 9, 20))
    cal = Calendar()
    # Wednesday 30 September 10:00 + 2 working days → Friday 9 October 10:00 (holiday skipped,
    # 8 October is the first workday).
    assert cal.add(at(2026, 9, 30, 10, 0), 2, "day") == at(2026, 10, 9, 10, 0)
    # Friday 9 October 16:00 + 1 working day lands on the make-up Saturday.
    assert cal.add(at(2026, 10, 9, 16, 0), 1, "day") == at(2026, 10, 10, 16, 0)


def test_working_days_late() -> None:
    cal = Calendar()
    # Due Friday 27 November: late by Monday and Tuesday on Tuesday evening (the weekend
    # does not count), none on the Friday itself.
    assert cal.working_days_after(at(2026, 11, 27, 17, 0), at(2026, 12, 1, 20, 0)) == 2
    assert cal.working_days_after(at(2026, 11, 27, 9, 0), at(2026, 11, 27, 18, 0)) == 0
    # Due 30 September: the National Day week counts nothing; 8, 9 and the make-up Saturday
    # 10 October do.
    assert cal.working_days_after(at(2026, 9, 30, 12, 0), at(2026, 10, 10, 12, 0)) == 3
    assert cal.working_days_after(at(2026, 12, 1, 12, 0), at(2026, 11, 1, 12, 0)) == 0


def test_unknown_year_falls_back_to_weekdays() -> None:
    assert official_workday(dt.date(2031, 3, 3))  # a Monday
    assert not official_workday(dt.date(2031, 3, 1))  # a Saturday


def test_override_and_frozen_deadline(report: Any, system: Scope) -> None:
    event = report(category="0101")  # 私搭乱建: dispatched, 15 working days
    from wangge.events.workflow import transition

    dispatched = transition(system, event, "dispatch", now=at(2026, 11, 26, 10, 0))
    frozen = dispatched.handle_due_at
    assert frozen == Calendar().add(at(2026, 11, 26, 10, 0), 15, "day")
    # The administrator declares a local holiday after dispatch: new deadlines move, this
    # one does not.
    services.calendar_set(actor=system, date=dt.date(2026, 11, 27), is_workday=False, note="台风")
    assert Calendar().add(at(2026, 11, 26, 10, 0), 1, "day") == at(2026, 11, 30, 10, 0)
    dispatched.refresh_from_db()
    assert dispatched.handle_due_at == frozen
    # Removing the override restores the published calendar.
    services.calendar_set(actor=system, date=dt.date(2026, 11, 27), is_workday=None)
    assert Calendar().add(at(2026, 11, 26, 10, 0), 1, "day") == at(2026, 11, 27, 10, 0)


def test_working_minutes_between() -> None:
    cal = Calendar()
    assert cal.working_minutes_between(at(2026, 11, 26, 11, 0), at(2026, 11, 26, 15, 0)) == 120
    assert cal.working_minutes_between(at(2026, 11, 27, 17, 0), at(2026, 11, 30, 9, 0)) == 60
    assert cal.working_minutes_between(at(2026, 11, 27, 17, 0), at(2026, 11, 27, 9, 0)) == 0


def test_office_hours_are_checked(settings: Any) -> None:
    with pytest.raises(ValueError, match="overlap"):
        parse_office_hours("08:00-12:00,11:00-17:00")
    with pytest.raises(ValueError, match="ends before"):
        parse_office_hours("12:00-08:00")
    settings.EVENTS_OFFICE_HOURS = "09:00-17:00"
    assert Calendar().add(at(2026, 11, 26, 16, 0), 2, "hour") == at(2026, 11, 27, 10, 0)


def test_calendar_api_month(api_as: Any) -> None:
    days = api_as("demo-grid").get("/api/v1/calendar?year=2026&month=10").json()
    by_date = {d["date"]: d for d in days}
    assert len(days) == 31
    assert by_date["2026-10-01"]["is_workday"] is False and by_date["2026-10-01"]["note"]
    assert by_date["2026-10-10"]["is_workday"] is True
    deadline = api_as("demo-grid").get(
        "/api/v1/calendar/deadline?amount=2&unit=day&start=2026-09-30T10:00:00%2B08:00"
    )
    assert dt.datetime.fromisoformat(deadline.json()["deadline"]) == at(2026, 10, 9, 10, 0)
