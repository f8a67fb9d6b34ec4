"""List pages and list APIs run a fixed number of queries, however many rows they show: the
count measured on the test world must not change when a team grows (an N+1 would)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.core.models import Department
from wangge.teams import services
from wangge.teams.models import PartyMemberCategory, TeamRole
from wangge.teams.tests.factories import SYSTEM, StaffFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"


def _grow(grid: str, n: int) -> None:
    """n more part-time and n more specialist workers (with their department), n party members."""
    department = Department.objects.get(code="chengguan")
    since = dt.date(2026, 1, 1)
    for i in range(n):
        for role, sent_by in ((TeamRole.PART_TIME, None), (TeamRole.SPECIALIST, department)):
            services.assignment_start(
                actor=SYSTEM,
                staff=StaffFactory.create(region_code=grid[:12], department=sent_by),
                grid_code=grid,
                role=role,
                valid_from=since,
                department=sent_by,
            )
        services.party_member_save(
            actor=SYSTEM,
            grid_code=grid,
            data=services.PartyMemberData(
                name=f"新党员{i}",
                category=PartyMemberCategory.RESIDENT,
                registered_on=since,
                phone=f"1360000{i:04d}",
            ),
        )


PAGES = ["/teams/", "/teams/staff/", f"/teams/grid/{MINE}/", f"/teams/grid/{MINE}/card/"]
APIS = [
    "/api/v1/staff?limit=500",
    f"/api/v1/teams/{MINE}",
    "/api/v1/teams/coverage",
    f"/api/v1/teams/{MINE}/history",
]


def _same_count_after_growth(client: Any, url: str, django_assert_num_queries: Any) -> None:
    client.get(url)  # the session, the token's last use: written once, not per row
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(MINE, 6)
    with django_assert_num_queries(len(small)):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_list_pages_do_not_grow_with_the_rows(
    client_as: Any, django_assert_num_queries: Any, url: str
) -> None:
    _same_count_after_growth(client_as("demo-community"), url, django_assert_num_queries)


@pytest.mark.parametrize("url", APIS)
def test_list_apis_do_not_grow_with_the_rows(
    api_as: Any, django_assert_num_queries: Any, url: str
) -> None:
    _same_count_after_growth(api_as("demo-community"), url, django_assert_num_queries)
