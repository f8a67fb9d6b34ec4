"""Department lists in a real browser on the demo district: the district uploads 民政's own
workbook, confirms the suggested columns and links it; a community officer on a phone works
the review queue side by side with the evidence; no console error and no request leaving the
machine."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from tests.browser.conftest import login
from tests.browser.test_dashboard import watch

pytestmark = pytest.mark.browser
SHOTS = Path("var/screenshots")


def _workbook(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "老人姓名", "性别", "公民身份号码", "出生年月", "联系电话", "现住址"])
    sheet.append([1, "测试老人甲", "男", "440704193001010019", "1930/1/1", "", "外地"])
    sheet.append([2, "", "女", "", "", "", ""])
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def test_district_uploads_a_departments_workbook(
    browser: Any, live_demo: str, tmp_path: Path
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-district")
    page.goto(f"{live_demo}/linkage/")
    assert "民政高龄津贴名单" in page.content()  # the demo's lists
    page.click("a[href='/linkage/upload/']")
    page.select_option("select[name=source]", "mz-elderly")
    page.set_input_files("input[name=file]", str(_workbook(tmp_path / "民政名单.xlsx")))
    page.click("main form button[type=submit]")
    page.wait_for_selector("select[name=map_name]")
    assert page.locator("select[name=map_name]").input_value() == "老人姓名"
    assert page.locator("select[name=map_id_number]").input_value() == "公民身份号码"
    page.click("main form button[type=submit]")
    page.wait_for_url("**/linkage/batches/*/")
    assert page.locator("[data-count=rejected]").inner_text() == "1"
    page.click("form[action$='/run/'] button")
    page.wait_for_url("**/linkage/batches/*/?job=*")
    for _ in range(60):
        page.reload()
        if page.locator("[data-count=linked_exact]").count():
            break
        page.wait_for_timeout(1000)
    assert page.locator("[data-count=new]").inner_text() == "1"
    assert errors == [] and outside == []


def test_community_reviews_on_a_phone(browser: Any, live_demo: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors, outside = watch(page, live_demo)
    login(page, live_demo, "demo-community")
    page.goto(f"{live_demo}/linkage/review/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    first = page.locator("a.button[href^='/linkage/pairs/']").first
    first.click()
    page.wait_for_selector("table.compare")
    assert page.locator("table.compare tr[data-field=name]").count() == 1
    assert page.locator("table.compare td.weight").count() >= 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-linkage-pair.png"), full_page=True)
    url = page.url
    page.click("button[name=decision][value=accept]")
    page.wait_for_url(lambda u: u != url)
    assert "复核结论已保存" in page.content()
    assert errors == [] and outside == []
