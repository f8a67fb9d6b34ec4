"""Dates and date-times from outside (query strings, forms, API parameters, Open311 searches),
kept within the years the platform can mean: FIRST_YEAR to LAST_YEAR.

Python's dates stop at the years 1 and 9999, so a date at either end overflows as soon as it is
moved: by a time zone (the database adapter converts every aware value to UTC), by a day (an
end date becomes the next midnight) or by a limit (Open311's 90 days, a deadline's working
days). A year inside 2000–2100 leaves centuries of room for every such shift, so refusing the
others where they come in is the one check needed; no record of this platform lies outside it
anyway. Birth dates are not instants of the platform's work: they are not checked here.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.errors import ValidationFailed

FIRST_YEAR = 2000
LAST_YEAR = 2100
# fromisoformat alone would also take 20240419 and 2024-W16-5.
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class DateOutOfRange(ValidationFailed):
    code = "date_out_of_range"


def _refuse(value: str, field: str) -> DateOutOfRange:
    return DateOutOfRange(
        _("The date %(value)s lies outside the years %(first)d to %(last)d.")
        % {"value": value, "first": FIRST_YEAR, "last": LAST_YEAR},
        details={"field": field, "value": value},
    )


def checked_day(value: dt.date, *, field: str = "") -> dt.date:
    """`value`, or DateOutOfRange (400) when its year lies outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise _refuse(value.isoformat(), field)
    return value


def checked_moment(value: dt.datetime, *, field: str = "") -> dt.datetime:
    """`value` made aware (a naive value is local time), or DateOutOfRange. The year is checked
    as written, before any conversion: 9999-12-31T23:59:59-01:00 would already overflow in
    UTC."""
    checked_day(value, field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day` (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def day_end(day: dt.date) -> dt.datetime:
    """Local midnight at the end of `day`: the exclusive end of a period "until `day`"."""
    return day_start(day + dt.timedelta(days=1))


def parse_day(text: str, *, field: str = "") -> dt.date | None:
    """A date typed into a form or a query string as YYYY-MM-DD: None when blank; ValidationFailed
    (code `invalid_date`) when it is no date, DateOutOfRange when it lies outside the years."""
    text = text.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:  # 2024-02-30
        day = None
    if day is None:
        raise ValidationFailed(
            _("%(value)s is not a date like 2024-04-19.") % {"value": text},
            code="invalid_date",
            details={"field": field, "value": text},
        )
    return checked_day(day, field=field)


def time_left(due: dt.datetime | None, now: dt.datetime) -> tuple[str, bool]:
    """A deadline as people say it: what is left ("剩余 3 小时") or how late it is ("已超期 69
    天"), and whether it is late. Wall-clock time, in calendar days: the limit itself was
    added in working time when the deadline was set (events/calendar.py), but a day late is a
    day of the calendar to whoever waits. Whole units, rounded down; under a minute left is
    said as one minute. ("", False) without a deadline."""
    from django.utils.translation import ngettext

    if due is None:
        return "", False
    late = now >= due
    seconds = int(abs((now - due).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600, max(seconds // 60, 1)
    if days:
        amount = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    elif hours:
        amount = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    else:
        amount = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if late:
        return _("%(amount)s overdue") % {"amount": amount}, True
    return _("%(amount)s left") % {"amount": amount}, False
