"""The ledger's add and edit pages on a phone: a grid worker adds a person, is asked about a
possible duplicate, confirms, corrects the record and is told when someone else changed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser
SHOTS = Path("var/screenshots")
GRID = "440704003001001"


def test_add_and_correct_a_person_on_a_phone(browser: Any, live_demo: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    login(page, live_demo, "demo-grid")
    page.goto(f"{live_demo}/ledger/people/new/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.fill("input[name=grid_code]", GRID)
    page.fill("input[name=name]", "浏览器新增")
    page.fill("input[name=id_number]", "11010519491231002X")
    page.fill("input[name=phone]", "13977776666")
    page.check("input[name=care_tags][value=elderly_alone]")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-person-new.png"), full_page=True)
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/ledger/people/*/")
    assert page.locator("h1").inner_text().startswith("浏览器新增")
    assert "独居老人" in page.content() and "110105************" in page.content()
    person_url = page.url

    # The same phone again: the page asks whether it is the same person.
    page.goto(f"{live_demo}/ledger/people/new/")
    page.fill("input[name=grid_code]", GRID)
    page.fill("input[name=name]", "另一位")
    page.fill("input[name=phone]", "13977776666")
    page.fill("input[name=id_number]", "110105194912310046")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector("ul.candidates")
    assert "浏*" in page.locator("ul.candidates").inner_text()
    page.check("input[name=confirm_new]")
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/ledger/people/*/")

    # Correct the first person; a second tab with the old version is told what changed.
    page.goto(f"{person_url}edit/")
    stale = context.new_page()
    stale.goto(f"{person_url}edit/")
    page.fill("input[name=employer]", "江海区某厂")
    page.click("form.record-form button[type=submit]")
    page.wait_for_url(person_url)
    stale.fill("input[name=occupation]", "工人")
    stale.click("form.record-form button[type=submit]")
    stale.wait_for_selector(".message.error")
    assert "工作单位" in stale.locator(".message.error").inner_text()
    stale.screenshot(path=str(SHOTS / "phone-person-stale.png"), full_page=True)
    context.close()
