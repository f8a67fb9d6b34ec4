"""The working calendar: which days are worked, office hours, and adding working time.

A day is a workday if an administrator's override (`CalendarDay`) says so; otherwise as the
State Council published it (`chinese_calendar`: public holidays and 调休 make-up days); for a
year the library does not know yet, Monday to Friday. Office hours come from
`WANGGE_OFFICE_HOURS`. N working days are N × a day's office minutes, so hours, minutes and
days are all added by one walk over office periods.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Protocol

import chinese_calendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core.officehours import Period, parse_office_hours
from wangge.events.models import CalendarDay, LimitUnit


class Clock(Protocol):
    """Adding working time: `Calendar`, or the demo's faster table of office minutes."""

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime: ...

    def add_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime: ...

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> int: ...


def office_periods() -> tuple[Period, ...]:
    return _periods(settings.EVENTS_OFFICE_HOURS)


@lru_cache(maxsize=4)
def _periods(text: str) -> tuple[Period, ...]:
    return parse_office_hours(text)


def day_minutes() -> int:
    return sum(p.minutes for p in office_periods())


@lru_cache(maxsize=8192)
def official_workday(day: dt.date) -> bool:
    """The published calendar (no overrides; a pure function of the day, so kept)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the library does not cover yet
        return day.weekday() < 5


class Calendar:
    """Workdays with overrides loaded once; use one instance per computation."""

    def __init__(self) -> None:
        self._overrides: dict[dt.date, bool] | None = None  # loaded on first use
        self._periods = office_periods()

    def is_workday(self, day: dt.date) -> bool:
        if self._overrides is None:
            self._overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
        if day in self._overrides:
            return bool(self._overrides[day])
        return official_workday(day)

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """The moment `amount` working `unit`s after `start` (aware; returned in local time)."""
        minutes = (
            amount
            * {
                LimitUnit.MINUTE: 1,
                LimitUnit.HOUR: 60,
                LimitUnit.DAY: day_minutes(),
            }[LimitUnit(unit)]
        )
        return self.add_minutes(start, minutes)

    def add_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        tz = timezone.get_current_timezone()
        local = timezone.localtime(start, tz)
        day = local.date()
        clock = local.time().replace(second=0, microsecond=0, tzinfo=None)
        remaining = minutes
        for _day in range(3660):  # ten years of days: a limit, not a loop that can hang
            if self.is_workday(day):
                for period in self._periods:
                    begin = max(clock, period.start)
                    if begin >= period.end:
                        continue
                    available = _minutes_between(begin, period.end)
                    if remaining <= available:
                        moment = dt.datetime.combine(day, begin) + dt.timedelta(minutes=remaining)
                        return timezone.make_aware(moment, tz)
                    remaining -= available
            day += dt.timedelta(days=1)
            clock = dt.time(0, 0)
        raise ValueError("no working time within ten years; check the calendar overrides")

    def working_days_after(self, start: dt.datetime, end: dt.datetime) -> int:
        """The workdays after the local day of `start`, up to and including the local day of
        `end` (0 if `end` is not after `start`'s day): how many working days late a deadline
        at `start` is at `end`."""
        tz = timezone.get_current_timezone()
        day = timezone.localtime(start, tz).date() + dt.timedelta(days=1)
        last = timezone.localtime(end, tz).date()
        count = 0
        while day <= last:
            count += self.is_workday(day)
            day += dt.timedelta(days=1)
        return count

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Office minutes from start to end (0 if end is before start)."""
        if end <= start:
            return 0
        tz = timezone.get_current_timezone()
        a, b = timezone.localtime(start, tz), timezone.localtime(end, tz)
        total = 0
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                for period in self._periods:
                    lo = dt.datetime.combine(day, period.start)
                    hi = dt.datetime.combine(day, period.end)
                    lo = max(lo, a.replace(tzinfo=None))
                    hi = min(hi, b.replace(tzinfo=None))
                    if hi > lo:
                        total += int((hi - lo).total_seconds() // 60)
            day += dt.timedelta(days=1)
        return total


def _minutes_between(a: dt.time, b: dt.time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


def month(year: int, month_: int) -> list[dict[str, object]]:
    """Every day of a month: workday or not, what the published calendar says, overrides."""
    overrides = {d.date: d for d in CalendarDay.objects.filter(date__year=year, date__month=month_)}
    day = dt.date(year, month_, 1)
    days = []
    while day.month == month_:
        official = official_workday(day)
        o = overrides.get(day)
        days.append(
            {
                "date": day,
                "is_workday": o.is_workday if o else official,
                "official": official,
                "override": o is not None,
                "note": o.note if o else _holiday_name(day),
            }
        )
        day += dt.timedelta(days=1)
    return days


def _holiday_name(day: dt.date) -> str:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    if name is None:
        return ""
    label = str(HOLIDAY_NAMES.get(name, name))
    return label if on_holiday else str(_("%(holiday)s (make-up workday)") % {"holiday": label})


HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
}
