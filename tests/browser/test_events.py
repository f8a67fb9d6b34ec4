"""Events in a real browser: the grid worker's phone page (offline queue, retries after a lost
answer, a report made offline), the event page's actions, and the residents' public page."""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
SHOTS = Path("var/screenshots")
GRID = "440704003001001"  # demo-grid leads 英南村第 1 网格 and sees only it
PHONE = {"width": 390, "height": 844}
REPORT_SHOT = Path(tempfile.gettempdir()) / "wg-report.png"  # the phone page, to look at


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page at a phone's viewport."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def interior_point(page: Any, base: str, code: str = GRID) -> tuple[float, float]:
    """A point surely inside the grid, from the boundary the API gives the logged-in user."""
    import shapely.geometry

    response = page.request.get(f"{base}/api/v1/regions/{code}")
    assert response.ok, response.text()
    point = shapely.geometry.shape(response.json()["boundary"]).representative_point()
    return point.x, point.y


def inside(page: Any, base: str, lon: float, lat: float, code: str = GRID) -> bool:
    import shapely.geometry

    boundary = page.request.get(f"{base}/api/v1/regions/{code}").json()["boundary"]
    return bool(shapely.geometry.shape(boundary).contains(shapely.geometry.Point(lon, lat)))


def set_point(page: Any, lon: float, lat: float) -> None:
    page.evaluate(
        """([lon, lat]) => {
            document.querySelector("form.report-form [name=lon]").value = lon.toFixed(7);
            document.querySelector("form.report-form [name=lat]").value = lat.toFixed(7);
        }""",
        [lon, lat],
    )


def open_report_page(page: Any, base: str) -> None:
    page.goto(f"{base}/events/report/")
    page.wait_for_selector("form[data-offline-queue][data-queue-ready]", state="attached")
    page.wait_for_selector("#map[data-loaded]", state="attached")


def fill_report(page: Any, title: str, category: str = "0102") -> None:
    page.select_option("form.report-form select[name=category]", category)
    page.fill("form.report-form input[name=title]", title)


def events_titled(page: Any, base: str, title: str) -> list[dict[str, Any]]:
    response = page.request.get(f"{base}/api/v1/events", params={"q": title})
    assert response.ok, response.text()
    body = response.json()
    assert body["count"] == len(body["items"])
    return [e for e in body["items"] if e["title"] == title]


def send_until_sent(page: Any, posts: Callable[[], int], *, timeout: float = 30) -> None:
    """Press "Send now" until the page says a report was sent. A press while a send is still
    under way does nothing (the page sends one batch at a time), so wait for each attempt."""
    deadline = time.monotonic() + timeout
    while page.locator(".sent").count() == 0:
        assert time.monotonic() < deadline, "the queued report was never sent"
        before = posts()
        button = page.locator("[data-send-now]")
        if not button.is_visible():  # the queue is hidden: the send under way has finished
            page.wait_for_timeout(200)
            continue
        button.click(timeout=5000)
        for _ in range(50):
            if posts() > before or page.locator(".sent").count():
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(300)  # let the page finish that attempt (and re-render the queue)


def test_report_retried_three_times_after_lost_answers_is_one_event(
    phone: Any, live_demo: str
) -> None:
    page = phone
    login(page, live_demo, "demo-grid")
    open_report_page(page, live_demo)
    assert int(page.get_attribute("#map", "data-loaded")) == 1  # its own grid only
    title = f"暴露垃圾 重试 {uuid.uuid4().hex[:8]}"
    fill_report(page, title)
    # Tap the middle of the map: the map is fitted to the grid, so the centre lies inside it.
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lon = float(page.input_value("form.report-form [name=lon]"))
    lat = float(page.input_value("form.report-form [name=lat]"))
    assert inside(page, live_demo, lon, lat), (lon, lat)
    assert re.search(r"\d+\.\d{5}, \d+\.\d{5}", page.inner_text("[data-where]"))

    keys: list[str | None] = []
    answers: list[tuple[int, dict[str, Any]]] = []

    def lose_three_answers(route: Any) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        keys.append(request.headers.get("idempotency-key"))
        response = route.fetch()  # the server gets the report and answers...
        answers.append((response.status, response.json()))
        if len(keys) <= 3:
            route.abort("connectionreset")  # ...but the phone never hears the answer
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/events", lose_three_answers)
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("[data-queue-list] li[data-state=queued]")
    assert page.locator("#queue").is_visible()
    send_until_sent(page, lambda: len(keys))

    assert len(keys) == 4, keys
    assert keys[0] and len(set(keys)) == 1, keys
    assert [status for status, _ in answers] == [201, 200, 200, 200]
    assert [body["created"] for _, body in answers] == [True, False, False, False]
    event_ids = {body["event"]["id"] for _, body in answers}
    assert len(event_ids) == 1
    event_id = event_ids.pop()
    assert page.get_attribute(".sent", "data-event-id") == str(event_id)

    found = events_titled(page, live_demo, title)
    assert [e["id"] for e in found] == [event_id]
    assert found[0]["status"] == "filed" and found[0]["grid_code"] == GRID
    page.wait_for_selector("#queue", state="hidden")
    assert page.locator("[data-queue-list] li").count() == 0
    page.unroute("**/api/v1/events")
    # Nothing is left on the phone either: a fresh load shows no queue and sends nothing.
    open_report_page(page, live_demo)
    page.wait_for_timeout(300)
    assert page.locator("[data-queue-list] li").count() == 0
    assert page.locator("#queue").is_hidden()
    assert len(events_titled(page, live_demo, title)) == 1


def test_report_made_offline_is_sent_once_when_back_online(phone: Any, live_demo: str) -> None:
    page = phone
    context = page.context
    login(page, live_demo, "demo-grid")
    open_report_page(page, live_demo)
    lon, lat = interior_point(page, live_demo)
    title = f"暴露垃圾 离线 {uuid.uuid4().hex[:8]}"
    fill_report(page, title)
    set_point(page, lon, lat)
    posts: list[str | None] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/api/v1/events")
            else None
        ),
    )

    context.set_offline(True)
    page.click("form.report-form button[type=submit]")
    item = page.wait_for_selector("[data-queue-list] li[data-state=queued]")
    assert title in item.inner_text()
    page.wait_for_timeout(500)  # the page tried, failed, and kept it
    assert page.locator(".sent").count() == 0
    assert page.locator("[data-queue-list] li").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 10, "the report page must not scroll sideways on a phone"
    page.screenshot(path=str(REPORT_SHOT), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-report-queued.png"), full_page=True)

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(300)
    if page.locator(".sent").count() == 0:
        send_until_sent(page, lambda: len(posts))
    page.wait_for_selector("#queue", state="hidden")
    assert page.locator("[data-queue-list] li").count() == 0
    found = events_titled(page, live_demo, title)
    assert len(found) == 1
    assert page.get_attribute(".sent", "data-event-id") == str(found[0]["id"])
    assert posts and posts[0] and len(set(posts)) == 1, posts
    page.screenshot(path=str(SHOTS / "phone-report-sent.png"), full_page=True)


def test_event_page_timeline_map_and_self_resolve(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-grid")
    open_report_page(page, live_demo)
    lon, lat = interior_point(page, live_demo)
    title = f"暴露垃圾 自行处置 {uuid.uuid4().hex[:8]}"
    fill_report(page, title)
    set_point(page, lon, lat)
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector(".sent a")
    page.click(".sent a")
    page.wait_for_url(re.compile(r".*/events/\d+/$"))

    assert title in page.locator("h1").inner_text()
    assert page.get_attribute("#status", "data-status") == "filed"
    assert page.locator("ol.timeline li").count() >= 1
    # The map: the grid's outline and the event's point, drawn by Leaflet.
    page.wait_for_selector("#map.leaflet-container")
    assert page.locator("#map .leaflet-overlay-pane path").count() >= 2
    # 0102 暴露垃圾 may be resolved in the grid: for the grid leader it is the next step.
    resolve = page.locator(".action.primary[data-action=self_resolve]")
    assert resolve.count() == 1
    resolve.locator("textarea[name=note]").fill("已清理\n垃圾已清运")
    with page.expect_navigation():
        resolve.locator("button[type=submit]").click()
    assert page.get_attribute("#status", "data-status") == "verifying"
    # The timeline gains the step. (The note typed here is not kept: workflow.transition stores
    # `note` for "report" but not for "self_resolve".)
    assert page.locator("ol.timeline li").count() >= 2
    assert page.locator("[data-action=self_resolve]").count() == 0
    assert page.get_attribute("ol.steps li[aria-current=step]", "data-step") == "verify"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "event-detail.png"), full_page=True)


def test_public_report_gives_a_tracking_code_and_hides_the_reporter(
    browser: Any, live_demo: str
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        # The point comes from a logged-in session; the resident's page itself has no outlines.
        login(page, live_demo, "demo-grid")
        lon, lat = interior_point(page, live_demo)
        context.clear_cookies()

        page.goto(f"{live_demo}/events/public/report/")
        assert "/accounts/login/" not in page.url
        assert (
            page.locator("form.report-form select[name=category] option[value='0601']").count() == 0
        )  # 矛盾纠纷 is not public
        title = f"路边垃圾 居民 {uuid.uuid4().hex[:8]}"
        fill_report(page, title, category="0102")
        set_point(page, lon, lat)
        page.fill("input[name=reporter_name]", "张三丰")
        page.fill("input[name=reporter_phone]", "13912345678")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "public-report.png"), full_page=True)
        with page.expect_navigation():
            page.click("form.report-form button[type=submit]")
        assert "/events/public/track/" in page.url
        page.screenshot(path=str(SHOTS / "public-tracked.png"), full_page=True)
        code = page.locator("p.answer strong").inner_text().strip()
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{10}", code), code
        assert f"code={code}" in page.url
        assert page.get_attribute("[data-status]", "data-status") == "pending"
        html = page.content()
        for secret in ("13912345678", "139****5678", "5678", "张三丰", "张**"):
            assert secret not in html, secret
        # Looking it up again with the code shows the same report.
        page.goto(f"{live_demo}/events/public/track/")
        page.fill("input[name=code]", code)
        with page.expect_navigation():
            page.click("form.inline button[type=submit]")
        assert page.get_attribute("[data-status]", "data-status") == "pending"
        assert "13912345678" not in page.content()
        page.screenshot(path=str(SHOTS / "public-track.png"), full_page=True)
    finally:
        context.close()
