"""The command centre in a real browser on the demo district: the map coloured with its legend,
the charts drawn, no console error and no request leaving the machine, drill-down to a record
the user may see; the phone layout; the big screen."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def watch(page: Any, base: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    outside: list[str] = []
    host = urlparse(base).netloc
    # A failed load is reported with its address by the response handler below.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))

    def request(r: Any) -> None:
        u = urlparse(r.url)
        if u.scheme in ("http", "https", "ws", "wss") and u.netloc != host:
            outside.append(r.url)

    page.on("request", request)
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors, outside


def loaded(page: Any) -> None:
    page.wait_for_selector("#dashboard[data-loaded]", timeout=30000)
    page.wait_for_selector("#dash-map[data-features]", timeout=30000)


def test_district_dashboard_map_charts_and_drill_down(browser: Any, live_demo: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-district")
    assert page.url.endswith("/dashboard/")
    loaded(page)
    box = page.locator("#dash-map")
    assert int(box.get_attribute("data-features") or 0) >= 3  # the district's three streets
    assert int(box.get_attribute("data-coloured") or 0) >= 1
    assert page.locator("#dash-legend .legend-item").count() >= 2
    for chart in ("trend", "rates", "categories", "channels", "departments", "ageing"):
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
    assert page.locator("#dash-cards .dash-card").count() == 5
    assert page.locator("#dash-rankings tbody tr").count() >= 3
    # Drill down by clicking: street → community → grid level.
    for _step in range(2):
        before = page.locator("#dashboard").get_attribute("data-loaded")
        page.locator("#dash-map path.leaflet-interactive").first.dispatch_event("click")
        page.wait_for_function(
            "b => document.getElementById('dashboard').dataset.loaded !== b", arg=before
        )
        page.wait_for_selector("#dash-map[data-features]")
    assert len(page.locator("#dash-crumbs a").all()) >= 3
    # The grids' ranking links to the grid's events; one of them opens.
    page.select_option("#dash-rank-level", "grid")
    page.wait_for_timeout(500)
    link = page.locator("#dash-rankings tbody a").first
    link.click()
    page.wait_for_url("**/events/**")
    first = page.locator("table.events tbody a").first
    first.click()
    page.wait_for_load_state()
    assert "/events/" in page.url and page.locator("h1").count() == 1
    assert not errors, errors
    assert not outside, outside
    context.close()


def test_phone_dashboard(browser: Any, live_demo: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-street")
    loaded(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width
    map_box = page.locator("#dash-map").bounding_box()
    assert map_box and map_box["height"] <= 844 * 0.55
    assert page.locator("#chart-trend canvas").count() >= 1
    assert not errors, errors
    assert not outside, outside
    context.close()


def test_big_screen(browser: Any, live_demo: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/dashboard/screen/")
    loaded(page)
    assert page.locator("body.screen").count() == 1
    assert page.locator(".rotate.hidden-panel").count() >= 1  # panels take turns
    assert page.locator("#chart-trend canvas, #chart-categories canvas").count() >= 1
    assert not errors, errors
    assert not outside, outside
    context.close()
