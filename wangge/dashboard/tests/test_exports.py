"""Each dashboard panel as a workbook: the selector's numbers, in scope, audited; bad
parameters a 400 with the reason, never a 500 and never data."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from wangge.core.models import AuditEntry, User
from wangge.core.scope import scope_for
from wangge.dashboard import selectors
from wangge.dashboard.facts import facts_rebuild, figures_refresh

pytestmark = pytest.mark.django_db

SINCE, UNTIL = dt.date(2026, 10, 1), dt.date(2026, 12, 1)  # the test world's events
PERIOD = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def facts(db: Any) -> None:
    facts_rebuild()
    figures_refresh()


def actor(username: str) -> Any:
    return scope_for(User.objects.get(username=username))


def sheet(client: Any, panel: str, **params: str) -> list[list[Any]]:
    response = client.get(f"/dashboard/{panel}.xlsx", params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(response.content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def pct(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def test_summary_is_the_selectors_and_audited(client_as: Any) -> None:
    rows = sheet(client_as("demo-district"), "summary", **PERIOD)
    data = selectors.summary(actor=actor("demo-district"), since=SINCE, until=UNTIL)
    values = [r[1] for r in rows[1:]]
    assert len(rows[0]) == 2
    assert data["period"]["reported"] > 0
    assert values[:2] == [SINCE.isoformat(), UNTIL.isoformat()]
    p = data["period"]
    assert values[2:9] == [
        data["now"]["open"],
        data["now"]["overdue"],
        p["reported"],
        p["should_close"],
        p["closed"],
        p["closed_on_time"],
        pct(p["close_rate"]),
    ]
    assert values[9] == pct(p["on_time_rate"])
    entry = AuditEntry.objects.filter(action="dashboard.panel_export").latest("seq")
    assert entry.object_id == "summary" and entry.actor_name == "demo-district"
    assert entry.details["since"] == SINCE.isoformat()


def test_a_department_officer_gets_their_departments_numbers(client_as: Any) -> None:
    dept = sheet(client_as("demo-dept"), "summary", **PERIOD)
    district = sheet(client_as("demo-district"), "summary", **PERIOD)
    expected = selectors.summary(actor=actor("demo-dept"), since=SINCE, until=UNTIL)
    assert dept[5][1] == expected["period"]["reported"]
    assert 0 < dept[5][1] < district[5][1]
    rows = sheet(client_as("demo-dept"), "departments", **PERIOD)
    assert {r[1] for r in rows[1:]} == {"chengguan"}


def test_rankings_rows_are_the_selectors(client_as: Any) -> None:
    rows = sheet(client_as("demo-district"), "rankings", level="grid", **PERIOD)
    data = selectors.rankings(actor=actor("demo-district"), since=SINCE, until=UNTIL, level="grid")
    assert rows[0][1:3] == ["名称", "编码"]  # Chinese headers, names before codes
    assert len(rows) - 1 == len(data["rows"]) > 0
    for got, want in zip(rows[1:], data["rows"], strict=True):
        assert got[:5] == [
            want["rank"],
            want["name"],
            want["code"],
            want["should_close"],
            want["closed"],
        ]
        assert got[5] == pct(want["on_time_rate"])


def test_map_values_are_the_selectors(client_as: Any) -> None:
    params = {"indicator": "reported", "parent": "440704003", "level": "grid", **PERIOD}
    rows = sheet(client_as("demo-district"), "map", **params)
    data = selectors.region_map(
        actor=actor("demo-district"),
        indicator="reported",
        since=SINCE,
        until=UNTIL,
        parent="440704003",
        level="grid",
    )
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        (r["name"], r["code"], r["value"]) for r in data["regions"]
    ]
    assert all(r[1].startswith("440704003") for r in rows[1:])


def test_the_other_panels_are_their_selectors(client_as: Any) -> None:
    client, me = client_as("demo-district"), actor("demo-district")
    trend = sheet(client, "trend", interval="week", **PERIOD)
    points = selectors.trend(actor=me, since=SINCE, until=UNTIL, interval="week")["points"]
    assert [r[:3] for r in trend[1:]] == [[p["day"], p["reported"], p["closed"]] for p in points]
    cats = sheet(client, "categories", **PERIOD)
    data = selectors.categories(actor=me, since=SINCE, until=UNTIL)
    assert [r[3] for r in cats[1:-2]] == [c["reported"] for c in data["categories"]]
    assert cats[-1][3] == data["total"] > 0
    channels = sheet(client, "channels", **PERIOD)
    data = selectors.channels(actor=me, since=SINCE, until=UNTIL)
    assert [(r[1], r[2]) for r in channels[1:]] == [
        (c["channel"], c["reported"]) for c in data["channels"]
    ]
    ageing = sheet(client, "ageing")
    buckets = selectors.ageing(actor=me)["buckets"]
    assert [r[1] for r in ageing[1:]] == [b["count"] for b in buckets]
    assert sum(r[1] for r in ageing[1:]) > 0


def test_an_out_of_scope_parent_is_refused_without_data(client_as: Any) -> None:
    before = AuditEntry.objects.filter(action="dashboard.panel_export").count()
    client = client_as("demo-street")
    for panel in ("summary", "map", "rankings", "ageing"):
        response = client.get(f"/dashboard/{panel}.xlsx", {"parent": "440704001", **PERIOD})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "江南街道" not in response.content.decode()
    assert AuditEntry.objects.filter(action="dashboard.panel_export").count() == before


@pytest.mark.parametrize(
    ("panel", "params"),
    [
        ("summary", {"since": "2026-02-30"}),
        ("summary", {"since": "2026-11-10", "until": "2026-11-01"}),
        ("map", {"indicator": "nonsense"}),
        ("map", {"level": "planet"}),
        ("trend", {"interval": "month"}),
        ("rankings", {"level": "district"}),
        ("rankings", {"level": "street", "parent": "abc"}),
    ],
)
def test_bad_parameters_are_a_400_with_the_reason(
    client_as: Any, panel: str, params: dict[str, str]
) -> None:
    response = client_as("demo-district").get(f"/dashboard/{panel}.xlsx", params)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_no_dashboard_no_workbook(client_as: Any) -> None:
    assert client_as(None).get("/dashboard/summary.xlsx").status_code == 302
    assert client_as("demo-auditor").get("/dashboard/summary.xlsx").status_code == 404
    assert client_as("demo-district").get("/dashboard/indicators.xlsx").status_code == 404
