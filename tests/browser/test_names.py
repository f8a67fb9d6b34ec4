"""Issue 14 §2 and §6 in a real browser: the cascading region picker, the region tree's
toggles, the hotline's address search, Leaflet in Chinese and the demo's 404 page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

GRID = "440704003001001"


def test_the_cascading_picker_narrows_the_inbox_by_name(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/events/?box=all")
    street = page.locator(".region-picker select[data-level=street]")
    community = page.locator(".region-picker select[data-level=community]")
    grid = page.locator(".region-picker select[data-level=grid]")
    page.wait_for_selector(
        ".region-picker select[data-level=street] option:has-text('礼乐街道')", state="attached"
    )
    assert community.is_disabled() and grid.is_disabled()
    street.select_option(label="礼乐街道")
    assert page.input_value("input[name=grid]") == "440704003"
    page.wait_for_selector(
        ".region-picker select[data-level=community] option:has-text('英南村')", state="attached"
    )
    community.select_option(label="英南村")
    page.wait_for_selector(
        f".region-picker select[data-level=grid] option[value='{GRID}']", state="attached"
    )
    grid.select_option(value=GRID)
    assert page.input_value("input[name=grid]") == GRID
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**grid={GRID}**")
    cells = page.locator("table.events tbody td .region").all_inner_texts()
    assert cells and all(c.startswith("英南村第1网格") for c in cells)
    # The chosen path is shown again on the filtered page.
    page.wait_for_selector(
        f".region-picker select[data-level=grid] option[value='{GRID}']", state="attached"
    )
    assert page.locator(".region-picker select[data-level=grid]").input_value() == GRID
    assert page.locator(".region-picker select[data-level=street]").input_value() == "440704003"


def test_a_name_typed_in_the_filter_is_found_or_said_to_be_unknown(
    page: Any, live_demo: str
) -> None:
    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/events/?box=all")
    page.fill("input[name=grid]", "英南村")
    page.click("form.filters button[type=submit]")
    cells = page.locator("table.events tbody td .region").all_inner_texts()
    assert cells and all(c.startswith("英南村") for c in cells)
    page.fill("input[name=grid]", "火星村")
    page.click("form.filters button[type=submit]")
    assert "没有名称为“火星村”的区域" in page.locator("[data-testid=grid-hint]").inner_text()


def test_a_grid_worker_picks_among_their_own_grids_only(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-grid")
    page.goto(f"{live_demo}/events/?box=all")
    page.wait_for_selector(
        f".region-picker select[data-level=grid] option[value='{GRID}']", state="attached"
    )
    assert page.locator(".region-picker select[data-level=street]").count() == 0
    options = page.locator(".region-picker select[data-level=grid] option").all_inner_texts()
    assert options[1:] == ["英南村第1网格"]


def test_the_region_tree_toggles_open_and_closed(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-street")
    page.goto(f"{live_demo}/regions/")
    toggle = page.locator("li.level-street > button.toggle")
    assert toggle.inner_text() == "▸"
    toggle.click()
    page.wait_for_selector("text=英南村")
    assert toggle.inner_text() == "▾" and toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    assert toggle.inner_text() == "▸"
    assert page.locator("li.level-street > ul").is_hidden()
    toggle.click()
    assert page.locator("li.level-street > ul").is_visible()


def test_the_hotline_finds_the_address_and_pins_it(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-street")
    page.goto(f"{live_demo}/events/hotline/")
    assert page.locator("[data-gps]").count() == 0
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    page.fill("input[name=q]", "英南村01号小区")
    page.wait_for_selector("[data-address-pick]")
    first = page.locator("[data-address-pick]").first
    address = first.inner_text()
    first.click()
    assert page.input_value("input[name=address]") == address
    assert page.locator("input[name=grid_code]").input_value().startswith("440704003001")
    assert page.locator("input[name=lon]").input_value() != ""
    assert page.locator("[data-testid=address-chosen]").inner_text() == address


def test_an_unknown_address_shows_our_404_page(page: Any, live_demo: str) -> None:
    response = page.goto(f"{live_demo}/no-such-page/")
    assert response.status == 404
    assert "未找到" in page.content() and "Traceback" not in page.content()
