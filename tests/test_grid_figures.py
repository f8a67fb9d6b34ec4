"""The grid page says what is in the grid — residents, households, organisations, open and
overdue events — each counted by its own module for the reader's scope, with links."""

from __future__ import annotations

import re
from typing import Any

import pytest

from wangge.events.models import OPEN_STATUS_LIST, Event
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db
GRID = "440704003001001"


def figures(page: str) -> dict[str, str]:
    block = re.search(r"<ul class=\"figures\" data-grid-figures>(.*?)</ul>", page, re.S)
    assert block is not None
    return {
        label.strip(): n
        for label, n in re.findall(r"(?:<a [^>]*>)?([^<>]+?) <b>(\d+)</b>", block.group(1))
    }


def test_grid_page_counts_what_is_in_the_grid(client_as: Any) -> None:
    page = client_as("demo-grid").get(f"/regions/{GRID}/").content.decode()
    got = figures(page)
    people = Person.objects.dangerously_unscoped().filter(grid_code=GRID, retired_on=None).count()
    open_events = (
        Event.objects.dangerously_unscoped()
        .filter(grid_code=GRID, status__in=OPEN_STATUS_LIST)
        .count()
    )
    assert got["居民数"] == str(people) and got["未结案事件"] == str(open_events)
    assert set(got) == {"居民数", "家庭户", "实有单位", "未结案事件", "当前超期"}
    assert f"/ledger/people/?grid={GRID}" in page and f"/events/?box=all&amp;grid={GRID}" in page


def test_a_reader_without_the_ledger_sees_no_resident_counts(client_as: Any) -> None:
    page = client_as("demo-dept").get(f"/regions/{GRID}/").content.decode()
    assert "/ledger/people/?grid=" not in page
