"""Maps that explain themselves (issue 14 §3) in a real browser on the demo district: the scope
map's street and community outlines, names where they fit, a legend for every colour and layer
toggles; on the phone's report page the grid under the GPS point is named."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login
from tests.browser.test_dashboard import watch
from tests.browser.test_events import GRID, PHONE, interior_point

pytestmark = pytest.mark.browser


def test_scope_map_outlines_labels_legend_and_toggles(browser: Any, live_demo: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/regions/map/")
    page.wait_for_selector("#map[data-loaded][data-labels]", state="attached", timeout=30000)
    assert int(page.get_attribute("#map", "data-labels") or 0) == 190 + 26 + 3
    # Zoomed out to the district: the streets' names show, not 190 grids' names on top.
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll('.map-label'))
              .filter(n => !n.hidden).map(n => n.className.match(/map-label-(\\w+)/)[1])"""
    )
    assert "street" in shown and shown.count("grid") < 190
    legend = page.locator(".map-legend").inner_text()
    for words in ("基础网格", "专属网格", "村（社区）边界", "街道边界"):
        assert words in legend
    assert page.locator(".map-toggles input[type=checkbox]").count() == 4
    outlines = page.locator(".leaflet-overlay-pane path").count()
    page.uncheck(".map-toggles input[data-layer=communities]")
    assert page.locator(".leaflet-overlay-pane path").count() == outlines - 26
    # Zoomed in on one grid: its own name shows.
    page.evaluate("() => window.scrollTo(0, 0)")
    for _ in range(5):
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(300)
    assert "grid" in page.evaluate(
        """() => Array.from(document.querySelectorAll('.map-label'))
              .filter(n => !n.hidden).map(n => n.className.match(/map-label-(\\w+)/)[1])"""
    )
    assert errors == [] and outside == []


def test_report_page_names_the_grid_under_the_gps_point(browser: Any, live_demo: str) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-grid")
    lon, lat = interior_point(page, live_demo)
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": lon, "latitude": lat})
    page.goto(f"{live_demo}/events/report/")
    page.wait_for_selector("#map[data-loaded]", state="attached")
    page.click("[data-gps]")
    page.wait_for_selector("[data-grid-name]:not([hidden])")
    named = page.locator("[data-grid-name]")
    assert named.get_attribute("data-grid") == GRID
    assert "英南村第1网格" in named.inner_text() and "所在网格" in named.inner_text()
    assert errors == [] and outside == []
