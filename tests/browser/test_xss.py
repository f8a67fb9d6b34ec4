"""Stored XSS (security finding 1): what residents, importers and administrators type reaches
pages and map tooltips as text, never as markup, and the Content-Security-Policy blocks any
script that might still slip through.

The payloads go in through the real entrypoints — the residents' public form, the ledger's
import page and `wangge grids import` — and officers then open every page and hover every map
feature they reach. One test covers all the sinks, so the run stays short."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import shapely.geometry

from tests.browser.conftest import PASSWORD, login, wangge
from wangge.core.validators import id_check_char

pytestmark = pytest.mark.browser

IMG = '<img src=x onerror="window.__xss=1">'
SVG = '"><svg onload=window.__xss=1>'
SCRIPT = "</script><script>window.__xss=1</script>"
GRID = "440704003001002"  # 英南村第2网格, in every officer's scope down to demo-community
GRID_NAME = "英南村第2网格"
PERSON_GRID = "440704003001001"

# Installed before any page script: every CSP violation a page causes is recorded.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.effectiveDirective + " " + e.blockedURI);
});
"""
# A pointer moving over every marker and polygon: Leaflet opens each feature's tooltip.
HOVER_ALL = """() => {
  const paths = [...document.querySelectorAll("#map path.leaflet-interactive")];
  for (const p of paths) { p.dispatchEvent(new MouseEvent("mouseover", {bubbles: true})); }
  return paths.length;
}"""


@pytest.fixture
def watched(browser: Any) -> Iterator[Callable[[], Any]]:
    """New pages, each in its own browser context, that record CSP violations in window.__csp."""
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(locale="zh-CN")
        context.add_init_script(WATCH)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def assert_inert(page: Any) -> None:
    """Nothing ran and nothing was blocked: the text was never markup in the first place."""
    page.wait_for_load_state("networkidle")  # an <img src=x> would have failed to load by now
    assert page.evaluate("window.__xss") is None, page.url
    assert page.evaluate("window.__csp") == [], page.url


def hover_map(page: Any, loaded: str) -> list[str]:
    page.wait_for_selector(f"#map[{loaded}]", state="attached")
    assert page.evaluate(HOVER_ALL) > 0
    return [t.strip() for t in page.locator(".leaflet-tooltip").all_inner_texts()]


def write_csv(path: Path, header: list[str], row: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(row)
    return path


class Codes:
    """Codes of the imported rows, fresh for each run: the served district outlives one test."""

    def __init__(self, tag: str):
        n = int(tag[1:], 16) % 1_000_000
        self.thing = f"44070499{n:08d}"  # major class 99: no demo component has it
        self.estate = f"440704003{n:06d}"
        self.building = self.estate + "001"
        first17 = f"44070419800101{n % 1000:03d}"
        self.id_number = first17 + id_check_char(first17)


def import_hostile_data(
    page: Any, base: str, env: dict[str, str], tmp_path: Path, tag: str, point: str
) -> Codes:
    """A grid renamed by `wangge grids import` (its old name kept in front), while a component,
    a building, a person and an organisation come in through the ledger's import page — one of
    them from a file whose name is a payload too."""
    lon, lat = point.split(",")
    codes = Codes(tag)

    def rename_grid() -> None:
        layer = json.loads(wangge(env, "grids", "export"))
        feature = next(f for f in layer["features"] if f["properties"]["code"] == GRID)
        feature["properties"]["name"] = GRID_NAME + IMG + SVG
        path = tmp_path / "grid.geojson"
        path.write_text(
            json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
        )
        wangge(env, "grids", "import", str(path))

    files = {
        "things": write_csv(
            tmp_path / "<img src=x onerror=window.__xss=1>.csv",  # a browser sends " as %22
            ["部件编码", "名称", "经度", "纬度"],
            [codes.thing, f"{tag} {IMG}{SVG}", lon, lat],
        ),
        "addresses": write_csv(
            tmp_path / "addresses.csv",
            ["小区编码", "小区名称", "楼栋编码", "楼栋名称", "楼栋地址", "经度", "纬度"],
            [codes.estate, f"{tag}{SVG}", codes.building, "1栋", f"{tag} {IMG}{SCRIPT}", lon, lat],
        ),
        "people": write_csv(
            tmp_path / "people.csv",
            ["姓名", "身份证号", "网格编码", "户籍地址", "现住地址"],
            [f"{tag}{IMG}", codes.id_number, PERSON_GRID, IMG, f"{SVG}{SCRIPT}"],
        ),
        "organisations": write_csv(
            tmp_path / "organisations.csv",
            ["单位名称", "单位类型", "网格编码", "地址"],
            [f"{tag} {IMG}{SVG}{SCRIPT}", "企业", PERSON_GRID, SVG],
        ),
    }
    with ThreadPoolExecutor(max_workers=1) as pool:  # the command takes seconds to start
        renamed = pool.submit(rename_grid)
        for kind, path in files.items():
            page.goto(f"{base}/ledger/import/")
            page.select_option("select[name=kind]", kind)
            page.set_input_files("input[type=file]", str(path))
            page.uncheck("input[name=dry_run]")
            page.click("form.grid-form button[type=submit]")
            page.wait_for_url("**/ledger/jobs/*/")
            page.wait_for_selector('[data-status="done"]', timeout=60_000)  # polled with htmx
            assert path.name in page.locator("#job").inner_text()
            # read, inserted, updated, unchanged, rejected
            assert page.locator("dl.facts dd").all_inner_texts() == ["1", "1", "0", "0", "0"]
            assert_inert(page)
        renamed.result()
    return codes


def test_typed_text_never_runs_as_script_on_any_page_or_map(
    watched: Callable[[], Any], live_demo: str, demo_env: dict[str, str], tmp_path: Path
) -> None:
    tag = "X" + uuid.uuid4().hex[:6]
    title = f"{tag} {IMG}{SVG}"
    description = f"{IMG}\n{SVG}\n{SCRIPT}"
    officer = watched()
    login(officer, live_demo, "demo-district")
    boundary = officer.request.get(f"{live_demo}/api/v1/regions/{GRID}").json()["boundary"]
    inside = shapely.geometry.shape(boundary).representative_point()

    # Given payloads in a grid's name and in ledger rows, imported as an administrator would,
    # and in a resident's public report (title, description, name)...
    point = f"{inside.x:.7f},{inside.y:.7f}"
    codes = import_hostile_data(officer, live_demo, demo_env, tmp_path, tag, point)
    public = watched()
    public.goto(f"{live_demo}/events/public/report/")
    public.select_option("form.report-form select[name=category]", "0102")
    public.fill("form.report-form input[name=title]", title)
    public.fill("form.report-form textarea[name=description]", description)
    public.fill("input[name=reporter_name]", IMG)
    public.evaluate(
        """([lon, lat]) => {
            document.querySelector("form.report-form [name=lon]").value = lon;
            document.querySelector("form.report-form [name=lat]").value = lat;
        }""",
        [f"{inside.x:.7f}", f"{inside.y:.7f}"],
    )
    with public.expect_navigation():
        public.click("form.report-form button[type=submit]")
    assert "/events/public/track/" in public.url
    assert_inert(public)

    # ...when the district administrator opens the pages and maps it reaches...
    found = officer.request.get(f"{live_demo}/api/v1/events", params={"q": tag}).json()["items"]
    assert [e["title"] for e in found] == [title]
    event_id = found[0]["id"]
    page = officer

    page.goto(f"{live_demo}/events/?box=all&q={tag}")
    assert title in page.locator("table.events").inner_text()
    assert_inert(page)
    page.goto(f"{live_demo}/events/{event_id}/")
    assert page.locator("h1").inner_text().endswith(title)
    assert page.locator("p.description").inner_text().split("\n") == description.split("\n")
    assert GRID_NAME + IMG + SVG in page.locator("p.crumbs").inner_text()
    assert_inert(page)
    community = watched()  # the report waits for acceptance by the community's officers
    login(community, live_demo, "demo-community")
    community.goto(f"{live_demo}/events/notifications/")
    assert title in community.locator("ul.notifications").inner_text()
    assert_inert(community)
    page.goto(f"{live_demo}/events/map/")
    tips = hover_map(page, "data-events-loaded")
    assert_inert(page)
    assert any(t.endswith(f" {title} · 暴露垃圾") for t in tips), tips[:5]

    page.goto(f"{live_demo}/ledger/map/")
    tips = hover_map(page, "data-points_loaded")
    assert_inert(page)
    assert f"{tag} {IMG}{SVG} {codes.thing}" in tips
    assert f"{tag} {IMG}{SCRIPT} {codes.building}" in tips
    assert f"{GRID_NAME}{IMG}{SVG} {GRID}" in tips
    page.goto(f"{live_demo}/ledger/things/?major=99")
    assert f"{tag} {IMG}{SVG}" in page.locator("table").inner_text()
    assert_inert(page)
    page.goto(f"{live_demo}/ledger/organisations/?q={tag}")
    assert f"{tag} {IMG}{SVG}{SCRIPT}" in page.locator("table").inner_text()
    assert_inert(page)
    page.goto(f"{live_demo}/ledger/people/?q={tag}")
    assert f"{tag}{IMG}" in page.locator("table").inner_text()
    assert_inert(page)
    page.click(f"table a:has-text('{tag}')")
    page.wait_for_url("**/ledger/people/*/")
    assert page.locator("h1").inner_text() == f"{tag}{IMG}"
    assert f"{SVG}{SCRIPT}" in page.locator("dl.facts").inner_text()
    assert_inert(page)

    page.goto(f"{live_demo}/regions/map/")
    tips = hover_map(page, "data-loaded")
    assert_inert(page)
    assert f"{GRID_NAME}{IMG}{SVG} {GRID}" in tips
    page.goto(f"{live_demo}/regions/{GRID}/")
    assert page.locator("h1").inner_text() == f"{GRID_NAME}{IMG}{SVG} {GRID}"
    assert_inert(page)
    page.goto(f"{live_demo}/regions/")  # the tree, opened level by level through htmx
    config = (
        "[htmx.config.includeIndicatorStyles, htmx.config.allowEval, htmx.config.allowScriptTags]"
    )
    assert page.evaluate(config) == [False, False, False]  # base.html's htmx-config meta
    for code in ("440704", "440704003", "440704003001"):
        page.click(f"button[hx-get='/regions/{code}/children/']")
    page.wait_for_selector(f"a[href='/regions/{GRID}/']")
    assert page.locator(f"a[href='/regions/{GRID}/']").inner_text() == GRID_NAME + IMG + SVG
    assert_inert(page)
    page.goto(f"{live_demo}/teams/grid/{GRID}/")
    assert page.locator("nav.crumbs a").inner_text() == GRID_NAME + IMG + SVG
    assert_inert(page)
    auditor = watched()  # the audit log keeps the renamed grid's old and new names
    login(auditor, live_demo, "demo-auditor")
    auditor.goto(f"{live_demo}/audit/?action=region.update&object_id={GRID}")
    assert GRID_NAME + IMG + SVG in auditor.locator("table.audit").inner_text()
    assert_inert(auditor)

    # ...then nothing ran, and the policy is in force: the inline script, the inline handler
    # and the string-as-code that a missed sink might write are all refused, and seen refused.
    # (Playwright's own evaluate() is exempt from the CSP, so the page is made to do it.)
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__xss = 1";
            document.body.appendChild(script);
            const img = document.createElement("img");
            img.setAttribute("onerror", "window.__xss = 1");
            img.src = "x";
            document.body.appendChild(img);
            setTimeout("window.__xss = 1", 0);
        }"""
    )
    page.wait_for_function("window.__csp.length >= 3")
    assert page.evaluate("window.__xss") is None
    assert sorted(page.evaluate("window.__csp")) == [
        "script-src eval",
        "script-src-attr inline",
        "script-src-elem inline",
    ]


def test_api_docs_are_local_behind_login_and_work_under_the_csp(
    watched: Callable[[], Any], live_demo: str
) -> None:
    page = watched()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_demo}/api/v1/docs")
    assert page.url == f"{live_demo}/accounts/login/?next=/api/v1/docs"
    page.fill("input[name=username]", "demo-district")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(url=f"{live_demo}/api/v1/docs"):
        page.click("button[type=submit]")
    page.wait_for_selector(".opblock")
    # "Try it out" on GET /me: Swagger UI runs, and its request reaches our API.
    page.locator(".opblock", has_text="/api/v1/me").first.locator(".opblock-summary").click()
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = page.locator(".live-responses-table tbody .response-col_status")
    assert status.inner_text() == "200"
    assert_inert(page)
    assert [url for url in requests if not url.startswith(live_demo + "/")] == []
