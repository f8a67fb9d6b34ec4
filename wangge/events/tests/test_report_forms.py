"""The report forms of issue 14: an address or landmark on the worker's and the resident's
forms (through the page, the API and the offline queue's API call), internal categories kept
off the residents' form and Open311, and the phone shell's tab bar for the grid's roles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from wangge.events.models import Category, Event
from wangge.events.tests.conftest import MINE, OTHER

pytestmark = pytest.mark.django_db
Point = Callable[[str], tuple[float, float]]
INTERNAL = {"1001": "发热人员报告", "1002": "重点人员排查"}


def unscoped() -> Any:
    return Event.objects.dangerously_unscoped()


def options(html: str) -> set[str]:
    return set(re.findall(r'<option value="(\d{4})"', html))


def test_the_residents_form_offers_no_internal_category(client_as: Any) -> None:
    html = client_as(None).get("/events/public/report/").content.decode()
    offered = options(html)
    assert "0102" in offered
    assert not offered & set(INTERNAL), offered & set(INTERNAL)
    assert not any(name in html for name in INTERNAL.values())
    assert "0601" not in offered  # 矛盾纠纷 was internal already
    public = Category.objects.filter(active=True, public=True, parent__isnull=False)
    assert offered == set(public.values_list("code", flat=True))


def test_staff_still_report_internal_categories(client_as: Any) -> None:
    html = client_as("demo-grid").get("/events/report/").content.decode()
    assert set(INTERNAL) <= options(html)


def test_the_seed_marks_the_epidemic_categories_internal() -> None:
    rows = Category.objects.filter(code__in=["10", *INTERNAL]).values_list("code", "public")
    assert dict(rows) == {"10": False, "1001": False, "1002": False}


def test_open311_lists_no_internal_category() -> None:
    services = Client().get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    assert "0102" in codes and not codes & set(INTERNAL)
    assert Client().get("/open311/v2/services/1001.json").status_code == 404


def test_a_resident_cannot_post_an_internal_category(client_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    response = client_as(None).post(
        "/events/public/report/",
        {"category": "1001", "title": "内部类别", "lon": lon, "lat": lat},
    )
    assert response.status_code == 200
    assert "未知的事件类别" in response.content.decode() or "1001" in response.content.decode()
    assert not unscoped().filter(title="内部类别").exists()


def test_the_resident_gives_an_address(client_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    html = client_as(None).get("/events/public/report/").content.decode()
    assert 'name="address"' in html
    response = client_as(None).post(
        "/events/public/report/",
        {
            "category": "0102",
            "title": "居民带地址",
            "address": "菜市场东门旁",
            "lon": lon,
            "lat": lat,
            "idempotency_key": "resident-address-1",
        },
    )
    assert response.status_code == 302
    assert unscoped().get(title="居民带地址").address == "菜市场东门旁"


def test_the_worker_gives_an_address_on_the_page(client_as: Any, point: Point) -> None:
    lon, lat = point(MINE)
    client = client_as("demo-grid")
    page = client.get("/events/report/").content.decode()
    assert 'name="address"' in page
    assert f'data-my-grids="{MINE}"' in page  # what the page checks a point against
    response = client.post(
        "/events/report/",
        {
            "category": "0102",
            "title": "网格员带地址",
            "address": "3 栋楼下",
            "lon": lon,
            "lat": lat,
        },
    )
    assert response.status_code == 302, response.content
    event = unscoped().get(title="网格员带地址")
    assert event.address == "3 栋楼下"
    assert "3 栋楼下" in client.get(f"/events/{event.pk}/").content.decode()


def test_the_queue_api_call_takes_the_address_and_a_too_long_one_is_refused(
    api_as: Any, point: Point
) -> None:
    lon, lat = point(MINE)
    client = api_as("demo-grid")
    fields = {"category": "0102", "title": "队列带地址", "lon": lon, "lat": lat}
    made = client.post(
        "/api/v1/events",
        fields | {"address": "江边公园北门", "channel": "patrol"},
        content_type="application/json",
        headers={"Idempotency-Key": "queue-address-1"},
    )
    assert made.status_code == 201, made.content
    assert made.json()["event"]["address"] == "江边公园北门"
    too_long = client.post(
        "/api/v1/events",
        fields | {"title": "地址太长", "address": "长" * 201},
        content_type="application/json",
    )
    assert too_long.status_code == 422, too_long.content
    assert not unscoped().filter(title="地址太长").exists()


def test_a_point_outside_the_workers_grids_is_refused_with_its_code(
    api_as: Any, point: Point
) -> None:
    """The refusal the phone's queue keeps editable (events.js reads `code` and `message`)."""
    lon, lat = point(OTHER)
    response = api_as("demo-grid").post(
        "/api/v1/events",
        {"category": "0102", "title": "别的网格", "lon": lon, "lat": lat},
        content_type="application/json",
        headers={"Idempotency-Key": "queue-outside-1"},
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "outside_scope"
    assert response.json()["message"]


def test_the_tab_bar_is_for_the_grids_roles(client_as: Any) -> None:
    grid = client_as("demo-grid").get("/events/").content.decode()
    assert "data-tabbar" in grid and 'class="with-tabbar"' in grid
    for href in ('href="/events/"', 'href="/events/report/"', 'href="/campaigns/my/"'):
        assert href in grid.split("data-tabbar", 1)[1]
    officer = client_as("demo-street").get("/events/").content.decode()
    assert "data-tabbar" not in officer and "data-menu-toggle" in officer
    anonymous = client_as(None).get("/events/public/report/").content.decode()
    assert "data-tabbar" not in anonymous and "data-sw=" not in anonymous


def test_the_service_worker_keeps_the_report_page_and_speaks_chinese() -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    offline_pages = re.search(r"var OFFLINE_PAGES = /(.+)/;", body)
    assert offline_pages
    pattern = re.compile(offline_pages.group(1).replace("\\/", "/"))
    for path in ("/events/report/", "/campaigns/my/", "/campaigns/my/12/", "/"):
        assert pattern.match(path), path
    assert not pattern.match("/ledger/people/")
    found = re.search(r"var TEXTS = (\{.*?\});", body)
    assert found is not None, "the service worker carries its texts"
    texts = json.loads(found.group(1))
    assert texts["title"] == "离线" and texts["report"] == "上报事件"


def test_the_manifest_and_its_icons_are_served() -> None:
    from django.contrib.staticfiles import finders

    path = finders.find("wangge/manifest.webmanifest")
    assert path
    with open(path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert finders.find(f"wangge/{icon['src']}"), icon
    assert {s["url"] for s in manifest["shortcuts"]} >= {"/events/report/", "/campaigns/my/"}
