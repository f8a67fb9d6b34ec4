"""The dashboard's API: every panel answers, and the panels agree with each other and with
the live events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.world import grid_codes
from wangge.dashboard import facts
from wangge.dashboard.tests.test_facts import who
from wangge.events import selectors as events
from wangge.events.tests.factories import history, local

pytestmark = pytest.mark.django_db
Q = "since=2026-06-01&until=2026-07-16"


@pytest.fixture(autouse=True)
def world() -> None:
    history(grid_codes(), n=300, start=local(2026, 6, 1), days=45, seed=5)
    facts.facts_rebuild()
    facts.figures_refresh()


def get(api_as: Any, username: str, path: str) -> Any:
    response = api_as(username).get(f"/api/v1/dashboard/{path}")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_panels_agree(api_as: Any) -> None:
    summary = get(api_as, "demo-street", f"summary?{Q}")
    trend = get(api_as, "demo-street", f"trend?{Q}")
    assert sum(p["reported"] for p in trend["points"]) == summary["period"]["reported"] > 0
    closed_in_period = sum(p["closed"] for p in trend["points"])
    assert closed_in_period == summary["period"]["closed_on_day"]
    weekly = get(api_as, "demo-street", f"trend?{Q}&interval=week")
    assert sum(p["reported"] for p in weekly["points"]) == summary["period"]["reported"]
    cats = get(api_as, "demo-street", f"categories?{Q}")
    assert cats["total"] == summary["period"]["reported"]
    assert len(cats["categories"]) <= 10
    chans = get(api_as, "demo-street", f"channels?{Q}")
    assert sum(c["reported"] for c in chans["channels"]) == summary["period"]["reported"]
    depts = get(api_as, "demo-street", f"departments?{Q}")
    assert sum(d["should_close"] for d in depts["departments"]) == summary["period"]["should_close"]
    ranking = get(api_as, "demo-street", f"rankings?{Q}&level=community")
    assert sum(r["should_close"] for r in ranking["rows"]) == summary["period"]["should_close"]
    rates = [r["on_time_rate"] for r in ranking["rows"]]
    assert rates == sorted(rates, reverse=True)


def test_live_numbers_are_the_events(api_as: Any) -> None:
    actor = who("demo-district")
    open_now = events.event_list(actor=actor, open_only=True).count()
    overdue_now = events.event_list(actor=actor, box="overdue").count()
    summary = get(api_as, "demo-district", "summary")
    assert summary["now"]["open"] == open_now > 0
    assert summary["now"]["overdue"] == overdue_now
    ageing = get(api_as, "demo-district", "ageing")
    assert sum(b["count"] for b in ageing["buckets"]) == open_now
    grids = get(api_as, "demo-district", "map?indicator=open&level=grid")
    assert sum(r["value"] for r in grids["regions"]) == open_now
    assert grids["breaks"] == sorted(grids["breaks"])
    streets = get(api_as, "demo-district", "map?indicator=overdue")
    assert streets["level"] == "street"
    assert sum(r["value"] for r in streets["regions"]) == overdue_now


def test_drill_down_to_a_grid_and_its_events(api_as: Any, client_as: Any) -> None:
    top = get(api_as, "demo-district", "regions")
    assert top["level"] == "street" and len(top["children"]) == 3
    street = get(api_as, "demo-district", "regions?parent=440704003")
    assert [p["code"] for p in street["path"]] == ["440704", "440704003"]
    grids = get(api_as, "demo-district", f"map?indicator=reported&parent=440704003001&{Q}")
    assert grids["level"] == "grid"
    region = max(grids["regions"], key=lambda r: r["value"])
    page = client_as("demo-district").get(region["href"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "SJ2026" in text  # the inbox lists the grid's events of the period
    assert region["code"] in text


def test_rankings_compare_with_the_previous_period(api_as: Any) -> None:
    ranking = get(
        api_as, "demo-district", "rankings?since=2026-06-22&until=2026-07-06&level=street"
    )
    assert ranking["previous_since"] == "2026-06-08"
    assert all(r["previous"]["on_time_rate"] is not None for r in ranking["rows"])
    for r in ranking["rows"]:
        assert r["change"] == round(r["on_time_rate"] - r["previous"]["on_time_rate"], 4)


def test_unknown_indicator_is_a_clear_error(api_as: Any) -> None:
    response = api_as("demo-district").get("/api/v1/dashboard/map?indicator=nonsense")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_indicator"
