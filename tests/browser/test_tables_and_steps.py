"""The event page's step bar and primary action, and the inbox as a table (issue 14 §4, §5),
in a real browser: the step bar marks where the event is, the one primary action is the
first thing under it (before the map on a phone), taking it moves the bar on; the inbox sorts
by a header (and back), turns pages by number and exports the rows it lists to Excel."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def first_event(page: Any, base: str, status: str) -> int:
    response = page.request.get(f"{base}/api/v1/events", params={"status": status, "limit": 1})
    assert response.ok, response.text()
    items = response.json()["items"]
    assert items, f"the demo has no {status} event"
    return int(items[0]["id"])


def test_step_bar_and_primary_action_move_on_together(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-district")
    event_id = first_event(page, live_demo, "filed")
    page.goto(f"{live_demo}/events/{event_id}/")
    steps = page.locator("ol.steps li")
    assert steps.count() == 6
    assert [s.strip() for s in page.locator("ol.steps .step-label").all_inner_texts()] == [
        "上报",
        "立案",
        "派遣",
        "处置",
        "核查",
        "结案",
    ]
    current = page.locator("ol.steps li[aria-current=step]")
    assert current.get_attribute("data-step") == "dispatch"
    assert page.locator("ol.steps li[data-state=done]").count() == 2
    # One primary action, the others folded away as secondary.
    primary = page.locator(".action.primary")
    assert primary.count() == 1 and primary.get_attribute("data-action") == "dispatch"
    assert "派遣意见" in primary.inner_text()
    assert page.locator(".more-actions details.action").count() >= 1
    assert page.locator("details.action[data-action=dispatch]").count() == 0
    assert re.search(r"(剩余|已超期) \d+ (天|小时|分钟)", page.inner_text("[data-testid=deadline]"))
    primary.locator("input[name=note]").fill("请尽快到场")
    with page.expect_navigation():
        primary.locator("button.primary").click()
    assert page.get_attribute("#status", "data-status") == "dispatched"
    assert "已派遣至" in page.inner_text("ul.messages")
    assert page.get_attribute("ol.steps li[aria-current=step]", "data-step") == "handle"
    assert page.locator("ol.steps li[data-step=dispatch] time").count() == 1
    assert "请尽快到场" in page.inner_text("ol.timeline")


def test_on_a_phone_the_next_step_comes_before_the_map(phone: Any, live_demo: str) -> None:
    login(phone, live_demo, "demo-district")
    event_id = first_event(phone, live_demo, "filed")
    phone.goto(f"{live_demo}/events/{event_id}/")
    phone.wait_for_selector("#map.leaflet-container")
    button = phone.locator(".action.primary button.primary").bounding_box()
    mapped = phone.locator("#map").bounding_box()
    assert button["y"] + button["height"] <= PHONE["height"] * 1.5, button  # near the top
    assert button["y"] < mapped["y"], (button, mapped)
    assert button["width"] >= PHONE["width"] * 0.7  # full width on a phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every step is on screen, none cut off sideways.
    for item in phone.locator("ol.steps li").all():
        found = item.bounding_box()
        assert found["x"] >= 0 and found["x"] + found["width"] <= PHONE["width"] + 1


def grid_codes(page: Any) -> list[str]:
    return [c.strip() for c in page.locator("table.events tbody td .code").all_inner_texts()]


def test_inbox_sorts_by_a_header_pages_and_exports_what_it_lists(page: Any, live_demo: str) -> None:
    from openpyxl import load_workbook

    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/events/?box=all")
    total = int(re.sub(r"\D", "", page.inner_text("[data-testid=total]").split("·")[0]))
    assert total > 50
    with page.expect_navigation():
        page.click("th[data-sort=grid] a")
    assert "sort=grid" in page.url
    assert page.get_attribute("th[data-sort=grid]", "aria-sort") == "ascending"
    codes = grid_codes(page)
    assert codes and codes == sorted(codes)
    with page.expect_navigation():
        page.click("th[data-sort=grid] a")
    assert page.get_attribute("th[data-sort=grid]", "aria-sort") == "descending"
    down = grid_codes(page)
    assert down == sorted(down, reverse=True) and down[0] >= codes[-1]
    # Page size and page jump keep the sort.
    page.select_option("select[name=size]", "20")
    page.wait_for_url(re.compile(r".*size=20.*"))
    assert page.locator("table.events tbody tr").count() == 20
    page.fill(".page-jump input[name=page]", "3")
    with page.expect_navigation():
        page.click(".page-jump button")
    assert "page=3" in page.url and "sort=-grid" in page.url
    assert "第 3 页" in page.inner_text("[data-testid=pager]")
    # The export: the overdue box, every row it lists (not one page), in its order.
    page.goto(f"{live_demo}/events/?box=overdue&sort=-due&size=20")
    listed = int(re.sub(r"\D", "", page.inner_text("[data-testid=total]").split("·")[0]))
    first_number = page.locator("table.events tbody tr td a").first.inner_text().strip()
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    assert len(rows) - 1 == listed and rows[1][0] == first_number
    # Its 剩余/已超期 column in the page's words (an event marked overdue once may have a
    # later stage's deadline still ahead).
    words = re.compile(r"^(剩余|已超期) \d+ (天|小时|分钟)$")
    assert all(words.match(str(r[9])) for r in rows[1:] if r[9])
    first_row = page.locator("table.events tbody tr").first.inner_text()
    assert rows[1][9] and str(rows[1][9]).split(" ")[0] in first_row  # 剩余 / 已超期 alike
    # Overdue rows say how late in words.
    assert re.search(r"已超期 \d+ (天|小时|分钟)", page.inner_text("table.events tbody"))


def test_a_saved_filter_comes_back_as_a_link(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-street")
    page.goto(f"{live_demo}/events/?box=overdue&sort=-due")
    page.fill(".save-filter input[name=name]", "超期最久")
    with page.expect_navigation():
        page.click(".save-filter button")
    assert "已保存" in page.inner_text("ul.messages")
    page.goto(f"{live_demo}/events/")
    with page.expect_navigation():
        page.click("a[data-saved-filter=超期最久]")
    assert "box=overdue" in page.url and "sort=-due" in page.url
