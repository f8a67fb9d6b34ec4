from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
SHOTS = Path("var/screenshots")


def test_login_page_is_chinese_and_wrong_password_is_refused(page: Any, live_demo: str) -> None:
    page.goto(f"{live_demo}/")
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "登录"
    page.fill("input[name=username]", "demo-street")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()


def test_street_officer_sees_its_street_only(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-street")
    page.goto(f"{live_demo}/?start=1")
    counts = page.locator(".counts:not(.events-card) dd").all_inner_texts()
    assert counts[0] == "1"  # one street
    page.goto(f"{live_demo}/regions/")
    assert "礼乐街道" in page.content() and "江南街道" not in page.content()
    # Open the street, then 英南村, through htmx.
    page.click("li.level-street > button.toggle")
    page.wait_for_selector("text=英南村")
    response = page.goto(f"{live_demo}/regions/440704001001001/")
    assert response.status == 404


def test_map_draws_the_scope_and_a_click_opens_the_grid(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-community")
    page.goto(f"{live_demo}/regions/map/")
    page.wait_for_selector("#map[data-loaded]")
    loaded = int(page.get_attribute("#map", "data-loaded"))
    assert 3 <= loaded < 190  # 英南村's grids only
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map.png"))
    page.locator("path.leaflet-interactive").first.click(force=True)
    page.wait_for_url("**/regions/440704003001*/")
    assert "网格" in page.locator("h1").inner_text()
    page.wait_for_selector("#map path.leaflet-interactive")


def test_phone_layout(browser: Any, live_demo: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    login(page, live_demo, "demo-grid")
    page.goto(f"{live_demo}/regions/440704003001001/")
    assert page.locator("h1").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the grid page must not scroll sideways on a phone"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-grid.png"), full_page=True)
    context.close()


def test_team_page_reveal_and_notice_card(page: Any, live_demo: str) -> None:
    login(page, live_demo, "demo-community")
    page.goto(f"{live_demo}/teams/grid/440704003001001/")
    masked = page.locator("td:has(details.reveal)").first.inner_text()
    assert "****" in masked
    page.locator("details.reveal summary").first.click()
    page.locator("details.reveal[open] input[name=reason]").fill("核实联系方式")
    page.locator("details.reveal[open] button[type=submit]").click()
    page.wait_for_selector("p.revealed")
    revealed = page.locator("p.revealed strong").inner_text()
    assert revealed.isdigit() and len(revealed) == 11
    page.goto(f"{live_demo}/teams/grid/440704003001001/card/")
    assert page.locator("h1").inner_text().endswith("网格")
    assert "12345" in page.locator("footer").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "notice-card.png"), full_page=True)
    response = page.goto(f"{live_demo}/teams/grid/440704001001001/")
    assert response.status == 404


def test_ledger_person_reveal_and_background_import(
    page: Any, live_demo: str, tmp_path: Path
) -> None:
    login(page, live_demo, "demo-community")
    page.goto(f"{live_demo}/ledger/people/")
    page.locator("table tbody a").first.click()
    page.wait_for_selector("h1")
    masked = page.locator("dd:has(details.reveal)").first.inner_text()
    assert "**********" in masked
    page.locator("details.reveal summary").first.click()
    page.locator("details.reveal[open] input[name=reason]").fill("上门核实身份")
    page.locator("details.reveal[open] button[type=submit]").click()
    page.wait_for_selector("p.revealed")
    assert len(page.locator("p.revealed strong").inner_text()) == 18
    # A background import with a progress bar, run by the worker beside the server.
    upload = tmp_path / "people.csv"
    upload.write_text(
        "姓名,身份证号,网格编码\n浏览器,11010519491231002X,440704003001001\n坏行,123,440704003001001\n",
        encoding="utf-8",
    )
    page.goto(f"{live_demo}/ledger/import/")
    page.set_input_files("input[type=file]", str(upload))
    page.uncheck("input[name=dry_run]")
    page.click("form.grid-form button[type=submit]")
    page.wait_for_url("**/ledger/jobs/*/")
    page.wait_for_selector('[data-status="done"]', timeout=60_000)
    facts = page.locator("dl.facts").inner_text()
    assert "1" in facts
    assert page.locator("a[href$='errors.xlsx']").is_visible()
