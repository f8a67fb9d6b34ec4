"""List pages and list APIs of the ledger run a fixed number of queries, however many rows
they show (an N+1 fails here)."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.ledger.tests.factories import OrganisationFactory, PersonFactory, ThingFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"

LISTS = [
    "/ledger/people/",
    "/ledger/organisations/",
    "/ledger/things/",
    "/ledger/addresses/",
    "/api/v1/people?limit=200",
    "/api/v1/organisations?limit=200",
    "/api/v1/things?limit=200",
    "/api/v1/estates",
    "/api/v1/ledger/map.geojson",
]


def _queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_lists_do_not_query_per_row(
    client_as: Any, api_as: Any, url: str, django_assert_max_num_queries: Any
) -> None:
    client = api_as("demo-grid") if url.startswith("/api/") else client_as("demo-grid")
    client.get(url)  # warm: session, caches
    few = _queries(client, url)
    for _ in range(30):
        PersonFactory.create(grid_code=MINE)
        OrganisationFactory.create(grid_code=MINE)
        ThingFactory.create(grid_code=MINE)
    many = _queries(client, url)
    assert many == few, f"{url}: {few} queries for a few rows, {many} for 30 more"
    with django_assert_max_num_queries(12):
        client.get(url)
