"""Issue 14 §2: region names beside codes on the event pages, a region filter that takes a name
(with a hint when nothing has that name), and messages that say what was done."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.events.models import Event
from wangge.events.tests.conftest import MINE, OTHER

pytestmark = pytest.mark.django_db


def test_the_inbox_shows_the_grid_name_with_its_code_underneath(
    client_as: Any, report: Any
) -> None:
    report(title="名称显示")
    body = client_as("demo-district").get("/events/?box=all&q=名称显示").content.decode()
    assert (
        f'<span class="region">英南村第1网格<br><small class="code">{MINE}</small></span>' in body
    )


def test_the_inbox_finds_a_region_by_name(client_as: Any, report: Any) -> None:
    mine = report(title="英南村的事件")
    other = report(username="demo-district", grid=OTHER, title="别处的事件")
    page = client_as("demo-district")
    for typed in ("英南村", "英南村第1网格", MINE[:12], "礼乐街道"):
        body = page.get("/events/", {"box": "all", "grid": typed}).content.decode()
        assert mine.number in body, typed
        assert other.number not in body, typed
    assert 'data-testid="grid-hint"' not in body


def test_a_name_of_no_region_says_so_instead_of_an_empty_list(client_as: Any, report: Any) -> None:
    report(title="有事件")
    body = client_as("demo-district").get("/events/?box=all&grid=火星村").content.decode()
    assert 'data-testid="grid-hint"' in body
    assert "没有名称为“火星村”的区域" in body
    assert "暂无事件" not in body


def test_a_region_outside_the_scope_is_not_found_by_name(client_as: Any, report: Any) -> None:
    """demo-grid sees only its own grid: another street's name matches nothing for them."""
    report(username="demo-district", grid=OTHER, title="别处的事件")
    body = client_as("demo-grid").get("/events/?box=all&grid=江南街道").content.decode()
    assert 'data-testid="grid-hint"' in body
    assert "别处的事件" not in body


def test_the_api_takes_a_name_too(api_as: Any, report: Any) -> None:
    mine = report(title="接口按名称")
    api = api_as("demo-district")
    listed = api.get("/api/v1/events", {"grid": "英南村", "q": "接口按名称"}).json()
    assert [e["number"] for e in listed["items"]] == [mine.number]
    refused = api.get("/api/v1/events", {"grid": "火星村"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "no_such_region"


def test_the_event_page_names_the_grid(client_as: Any, report: Any) -> None:
    event = report(title="详情页")
    body = client_as("demo-district").get(f"/events/{event.pk}/").content.decode()
    assert f'英南村第1网格<br><small class="code">{MINE}</small>' in body


def test_dispatching_says_to_whom(client_as: Any, report: Any) -> None:
    event = report(title="派遣消息")
    page = client_as("demo-district")
    if event.status == "pending":
        page.post(f"/events/{event.pk}/act/accept/", {"version": event.version})
        event.refresh_from_db()
    response = page.post(
        f"/events/{event.pk}/act/dispatch/",
        {"version": event.version, "department": "chengguan"},
        follow=True,
    )
    body = response.content.decode()
    assert Event.objects.dangerously_unscoped().get(pk=event.pk).status == "dispatched"
    assert "已派遣至" in body and "城管" in body
    assert "操作成功" not in body
