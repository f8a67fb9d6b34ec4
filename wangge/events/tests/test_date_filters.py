"""Dates at the ends of Python's range in the events API and pages: refused with a 400 (API) or
a form message (pages), never a 500 from an overflow (security review, finding 13)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

FAR_PAST = "0001-01-01T00:00:00"
FAR_FUTURE = "9999-12-31T23:59:59+14:00"


def out_of_range(field: str, value: str) -> dict[str, Any]:
    return {
        "code": "date_out_of_range",
        "message": f"日期 {value} 超出 2000 年至 2100 年的范围。",
        "details": {"field": field, "value": value},
    }


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/v1/events", "since", FAR_PAST),
        ("/api/v1/events", "until", FAR_FUTURE),
        ("/api/v1/events.geojson", "since", FAR_PAST),
        ("/api/v1/events-indicators", "since", FAR_PAST),
        ("/api/v1/events-indicators", "until", "9999-12-31T23:59:59"),
        ("/api/v1/calendar/deadline?amount=1", "start", "9999-12-31T23:59:59"),
        ("/api/v1/calendar/deadline?amount=1", "start", FAR_PAST),
    ],
)
def test_api_refuses_dates_outside_the_years_with_a_400(
    api_as: Any, path: str, field: str, value: str
) -> None:
    sep = "&" if "?" in path else "?"
    response = api_as("demo-district").get(f"{path}{sep}{field}={quote(value)}")
    assert response.status_code == 400, response.content
    assert response.json() == out_of_range(field, value)


def test_api_accepts_the_first_and_last_years_even_where_utc_leaves_them(api_as: Any) -> None:
    api = api_as("demo-district")
    # -14:00 puts the last second of 2100 into 2101 in UTC: still representable.
    until = quote("2100-12-31T23:59:59-14:00")
    response = api.get(f"/api/v1/events?since=2000-01-01T00:00:00&until={until}&limit=1")
    assert response.status_code == 200
    assert response.json()["count"] == api.get("/api/v1/events?limit=1").json()["count"]
    deadline = api.get(f"/api/v1/calendar/deadline?amount=1000&start={until}")
    assert deadline.status_code == 200
    assert deadline.json()["deadline"].startswith("2104-")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=0001-01-01", "日期 0001-01-01 超出 2000 年至 2100 年的范围。"),
        ("until=9999-12-31", "日期 9999-12-31 超出 2000 年至 2100 年的范围。"),
        ("since=2024-02-30", "2024-02-30 不是有效日期，格式应如 2024-04-19。"),
    ],
)
def test_indicators_page_says_which_date_it_cannot_use(
    client_as: Any, query: str, message: str
) -> None:
    client = client_as("demo-district")
    response = client.get(f"/events/indicators/?{query}")
    assert response.status_code == 200
    assert message in response.content.decode()
    # The period is left open: the same rows as without it.
    unfiltered = client.get("/events/indicators/")
    assert response.context["rows"] == unfiltered.context["rows"]


def test_indicators_workbook_with_a_bad_date_goes_back_to_the_page_with_the_message(
    client_as: Any,
) -> None:
    client = client_as("demo-district")
    response = client.get("/events/indicators.xlsx?since=0001-01-01&until=2026-12-31")
    assert response.status_code == 302
    assert response["Location"] == "/events/indicators/?until=2026-12-31"
    page = client.get(response["Location"]).content.decode()
    assert "日期 0001-01-01 超出 2000 年至 2100 年的范围。" in page


def test_indicators_workbook_with_good_dates_is_a_workbook(client_as: Any) -> None:
    response = client_as("demo-district").get(
        "/events/indicators.xlsx?since=2000-01-01&until=2100-12-31"
    )
    assert response.status_code == 200
    sheets = load_workbook(io.BytesIO(response.content), read_only=True).sheetnames
    assert sheets == ["部门", "街道", "村（社区）", "网格"]


def test_calendar_page_refuses_a_date_it_cannot_use(client_as: Any) -> None:
    client = client_as("demo-district")
    for day in ("0001-01-01", "2026-02-30"):
        response = client.post("/events/calendar/", {"date": day, "is_workday": "1"}, follow=True)
        assert response.status_code == 200
        assert "请选择日期，并指定是否为工作日。" in response.content.decode()
    from wangge.events.models import CalendarDay

    assert not CalendarDay.objects.exists()


def test_the_inbox_says_when_a_period_date_is_no_date(client_as: Any) -> None:
    response = client_as("demo-street").get("/events/?box=all&since=2026-02-30")
    assert response.status_code == 200
    text = response.content.decode()
    assert "2026-02-30" in text and 'data-testid="inbox-period"' not in text
