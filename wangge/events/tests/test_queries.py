"""The events lists cost a fixed number of queries, however many events they show: the same
exact count for one row and for a full page, so an N+1 (a query per row) fails here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.events import workflow
from wangge.events.models import Event
from wangge.events.tests.conftest import MINE

pytestmark = pytest.mark.django_db

PER_GRID = 10
GRIDS = (MINE, MINE[:12] + "002", MINE[:12] + "003")


@pytest.fixture
def many(report: Any) -> list[Event]:
    """30 events in 英南村 (three grids): hotline calls (which notify demo-community), half of
    them dispatched to 城管 (which notifies demo-dept)."""
    district = scope_for(User.objects.get(username="demo-district"))
    made = []
    for n in range(PER_GRID):
        for grid in GRIDS:
            event = report(
                username="demo-district",
                category="0101",
                grid=grid,
                title=f"列表{n:02d}",
                channel="hotline",
            )
            workflow.transition(district, event, "accept")
            if n % 2:
                workflow.transition(district, event, "dispatch", department="chengguan")
            made.append(event)
    return made


Check = Callable[..., Any]


def same_cost(assert_queries: Check, client: Any, one: str, full: str, expected: int) -> Any:
    client.get(one)  # the first request also records the token's or the session's use
    with assert_queries(expected):
        small = client.get(one)
    with assert_queries(expected):
        large = client.get(full)
    assert small.status_code == large.status_code == 200
    return small, large


@pytest.mark.parametrize("username", ["demo-community", "demo-dept"])
def test_lists_cost_the_same_for_one_row_and_a_page(
    api_as: Any, client_as: Any, many: list[Event], django_assert_num_queries: Check, username: str
) -> None:
    api, page = api_as(username), client_as(username)
    check = django_assert_num_queries

    one, full = same_cost(check, api, "/api/v1/events?limit=1", "/api/v1/events?limit=50", 4)
    assert (len(one.json()["items"]), len(full.json()["items"]) >= 15) == (1, True)

    url = "/api/v1/events.geojson"
    one, full = same_cost(check, api, f"{url}?q=列表01", url, 3)
    assert (len(one.json()["features"]), len(full.json()["features"]) >= 15) == (3, True)

    url = "/api/v1/notifications"
    one, full = same_cost(check, api, f"{url}?limit=1", f"{url}?limit=50", 3)
    assert (len(one.json()), len(full.json()) >= 15) == (1, True)

    # 9: the grids' names in one query for the page (issue 14: names, not codes)
    one, full = same_cost(check, page, "/events/?box=all&q=列表01", "/events/?box=all", 9)
    rows = '<td><a href="/events/'
    assert (one.content.decode().count(rows), full.content.decode().count(rows) >= 15) == (3, True)
    assert '<span class="region">' in full.content.decode()

    page.get("/events/notifications/")
    with check(5):
        listed = page.get("/events/notifications/")
    assert listed.content.decode().count("<li class=") >= 15
