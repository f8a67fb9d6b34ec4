"""Region lists run a fixed number of queries, however many regions they show."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = [
    "/regions/",
    "/regions/440704003/children/",
    "/regions/layers/chengguan/",
    "/api/v1/regions?limit=500",
    "/api/v1/grids.geojson",
    "/api/v1/layers/chengguan/straddling",
]


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_the_query_count_does_not_grow_with_the_regions(
    client_as: Any, api_as: Any, url: str
) -> None:
    from tests import world

    street = api_as("demo-street") if url.startswith("/api/") else client_as("demo-street")
    district = api_as("demo-district") if url.startswith("/api/") else client_as("demo-district")
    street.get(url), district.get(url)  # warm: sessions, caches
    # The district sees every street (14 grids); the street 礼乐 (7 grids): the same queries.
    assert _count(district, url) == _count(street, url), url
    assert len(world.grid_codes()) > 7
