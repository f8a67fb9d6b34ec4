"""core.dates: dates from outside are kept within 2000–2100, so no shift can overflow; the audit
log's API and page refuse the others with a 400 or a form message (security review, finding 13)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from wangge.core import dates
from wangge.core.errors import ValidationFailed

CN = ZoneInfo("Asia/Shanghai")
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)


@given(st.datetimes(timezones=st.none() | OFFSETS))
def test_a_checked_moment_is_aware_and_survives_every_shift_the_code_makes(
    value: dt.datetime,
) -> None:
    if not 2000 <= value.year <= 2100:
        with pytest.raises(dates.DateOutOfRange) as refused:
            dates.checked_moment(value, field="since")
        assert refused.value.status == 400
        assert refused.value.details == {"field": "since", "value": value.isoformat()}
        return
    checked = dates.checked_moment(value, field="since")
    assert timezone.is_aware(checked)
    # To UTC (the database adapter) and ten years either way (the calendar's longest walk).
    for moved in (checked - dt.timedelta(days=3660), checked + dt.timedelta(days=3660)):
        assert moved.astimezone(dt.UTC).tzinfo is dt.UTC


def test_a_naive_moment_is_local_time() -> None:
    naive = dt.datetime(2026, 4, 19, 8, 30)  # noqa: DTZ001 - what a client may send
    assert dates.checked_moment(naive) == dt.datetime(2026, 4, 19, 8, 30, tzinfo=CN)


def test_the_year_is_checked_as_written_not_in_utc() -> None:
    late = dt.datetime(2100, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14)))
    assert dates.checked_moment(late) is late
    with pytest.raises(dates.DateOutOfRange):
        dates.checked_moment(dt.datetime(2101, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=14))))


def test_day_start_and_end_are_local_midnights() -> None:
    day = dt.date(2100, 12, 31)
    assert dates.day_start(day) == dt.datetime(2100, 12, 31, tzinfo=CN)
    assert dates.day_end(day) == dt.datetime(2101, 1, 1, tzinfo=CN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("  ", None),
        ("2024-04-19", dt.date(2024, 4, 19)),
        (" 2000-01-01 ", dt.date(2000, 1, 1)),
    ],
)
def test_parse_day_reads_a_form_date(text: str, expected: dt.date | None) -> None:
    assert dates.parse_day(text, field="since") == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2024-02-30", "invalid_date"),
        ("20240419", "invalid_date"),
        ("2024-W16-5", "invalid_date"),
        ("abc", "invalid_date"),
        ("0001-01-01", "date_out_of_range"),
        ("9999-12-31", "date_out_of_range"),
        ("1999-12-31", "date_out_of_range"),
        ("2101-01-01", "date_out_of_range"),
    ],
)
def test_parse_day_refuses_what_is_no_usable_date(text: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        dates.parse_day(text, field="since")
    assert caught.value.code == code
    assert caught.value.details == {"field": "since", "value": text}


# -- the audit log ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"), [("since", "0001-01-01T00:00:00"), ("until", "9999-12-31T23:59:59")]
)
def test_audit_api_refuses_dates_outside_the_years(api_as: Any, field: str, value: str) -> None:
    response = api_as("demo-auditor").get(f"/api/v1/audit?{field}={quote(value)}")
    assert response.status_code == 400
    assert response.json() == {
        "code": "date_out_of_range",
        "message": f"日期 {value} 超出 2000 年至 2100 年的范围。",
        "details": {"field": field, "value": value},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=0001-01-01", "日期 0001-01-01 超出 2000 年至 2100 年的范围。"),
        ("until=9999-12-31", "日期 9999-12-31 超出 2000 年至 2100 年的范围。"),
        ("until=2026-13-01", "2026-13-01 不是有效日期，格式应如 2024-04-19。"),
    ],
)
def test_audit_page_says_which_date_it_cannot_use(client_as: Any, query: str, message: str) -> None:
    client = client_as("demo-auditor")
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (
        response.context["page"].paginator.count
        == client.get("/audit/").context["page"].paginator.count
    )
