"""Campaigns on a phone without signal: a campaign over the demo district (190 tasks); demo-grid
opens 我的任务 at 390×844, downloads its task's package, goes offline, confirms, corrects,
retires and adds; back online the queue sends once (sending the same batch again changes
nothing), and an edit of a record changed on the server meanwhile comes back as a conflict."""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any

import pytest

from tests.browser.conftest import wangge

pytestmark = pytest.mark.browser
GRID = "440704003001001"  # demo-grid leads 英南村第 1 网格
PHONE = {"width": 390, "height": 844}


def shell(env: dict[str, str], code: str) -> Any:
    """Run Python against the served district's database; the last line it prints, as JSON."""
    out = wangge(env, "shell", "-c", "import django, json\n" + code)
    return json.loads(out.strip().splitlines()[-1])


CREATE = """
import datetime as dt
from django.utils import timezone
from wangge.campaigns import services
from wangge.campaigns.models import Task
from wangge.core.scope import Scope
today = timezone.localdate()
c = services.campaign_create(actor=Scope.system("browser-test"), name="浏览器测试 {tag}",
    template="basic", regions=["440704"], start=today - dt.timedelta(days=1),
    end=today + dt.timedelta(days=10))
tasks = Task.objects.dangerously_unscoped().filter(campaign=c, parent=None)
print(json.dumps({{"id": c.pk, "tasks": tasks.count(),
    "mine": tasks.get(grid_code="{grid}").pk}}))
"""

PEOPLE = """
from wangge.ledger.models import Person
rows = Person.objects.dangerously_unscoped().filter(pk__in={ids})
print(json.dumps({{str(p.pk): [p.version, p.occupation, p.retired_reason] for p in rows}}))
"""

CHANGE = """
from wangge.core.scope import Scope
from wangge.ledger import services
from wangge.ledger.models import Person
p = Person.objects.dangerously_unscoped().get(pk={pk})
services.person_update(actor=Scope.system("browser-test"), person_id=p.pk, version=p.version,
    values={{"occupation": "服务器改的"}})
print(json.dumps(True))
"""

ADDED = """
from wangge.ledger.models import Person
print(json.dumps(Person.objects.dangerously_unscoped().filter(name="{name}").count()))
"""


def id_number() -> str:
    body = f"44070419900101{random.randint(100, 999)}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


@pytest.fixture
def phone(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def test_field_work_offline_sent_once_and_a_stale_edit_is_a_conflict(
    phone: Any, live_demo: str, demo_env: dict[str, str]
) -> None:
    from tests.browser.conftest import login

    made = shell(demo_env, CREATE.format(tag=uuid.uuid4().hex[:6], grid=GRID))
    assert made["tasks"] == 190
    page, context = phone, phone.context
    login(page, live_demo, "demo-grid")
    page.goto(f"{live_demo}/campaigns/my/")
    card = page.locator(f"li[data-task='{made['mine']}']")
    assert card.count() == 1
    assert re.search(r"\d+", card.locator("[data-left]").inner_text())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 10
    card.locator("a.task-title").click()
    page.wait_for_url(re.compile(rf".*/campaigns/my/{made['mine']}/$"))
    page.wait_for_selector("#field[data-ready='1']", timeout=30000)
    assert int(page.get_attribute("#field", "data-records") or 0) >= 10
    people = page.locator(".rec[data-kind=person]")
    ids = [int(people.nth(i).get_attribute("data-id") or 0) for i in range(4)]
    before = shell(demo_env, PEOPLE.format(ids=ids))
    batches: list[str] = []
    page.on(
        "request",
        lambda r: (
            batches.append(r.post_data or "")
            if r.method == "POST" and r.url.endswith("/edits")
            else None
        ),
    )

    context.set_offline(True)
    page.wait_for_selector("[data-offline]", state="visible")
    one, two, three, four = (page.locator(f".rec[data-kind=person][data-id='{i}']") for i in ids)
    one.locator("button[data-op=confirm]").click()
    two.locator("button[data-op=correct]").click()
    two.locator("form input[name=occupation]").fill("渔民")
    two.locator("form button[data-save]").click()
    three.locator("button[data-op=retire]").click()
    three.locator("form select[name=reason]").select_option("moved_away")
    three.locator("form button[data-save]").click()
    name = f"新增{uuid.uuid4().hex[:4]}"
    page.click("button[data-add=person]")
    add = page.locator("[data-adds] form")
    add.locator("input[name=name]").fill(name)
    add.locator("input[name=id_number]").fill(id_number())
    add.locator("button[data-save]").click()
    # Meanwhile the fourth person changes on the server; the phone corrects the old version.
    shell(demo_env, CHANGE.format(pk=ids[3]))
    four.locator("button[data-op=correct]").click()
    four.locator("form input[name=occupation]").fill("厨师")
    four.locator("form button[data-save]").click()
    page.wait_for_function("() => document.querySelectorAll('[data-queue-list] li').length === 5")
    assert page.get_attribute("#field", "data-waiting") == "5"
    assert batches == [] or all(b for b in batches)  # tried offline: nothing arrived
    assert shell(demo_env, PEOPLE.format(ids=ids[:3])) == {
        k: v for k, v in before.items() if int(k) in ids[:3]
    }

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "() => document.getElementById('field').dataset.waiting === '0'", timeout=30000
    )
    states = page.eval_on_selector_all(
        "[data-queue-list] li", "els => els.map(e => e.dataset.state)"
    )
    assert sorted(states) == ["applied"] * 4 + ["conflict"], states
    assert four.get_attribute("data-local") == "conflict"
    sent = [json.loads(b) for b in batches if b]
    keys = {e["key"] for b in sent for e in b["edits"]}
    assert len(keys) == 5
    # Sending the same batch again: the same answers, nothing applied twice.
    last = next(b for b in reversed(sent) if len(b["edits"]) == 5)
    token = page.eval_on_selector("[name=csrfmiddlewaretoken]", "e => e.value")
    url = page.get_attribute("#field", "data-edits")
    first = page.request.post(
        f"{live_demo}{url}",
        data=json.dumps(last),
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    again = page.request.post(
        f"{live_demo}{url}",
        data=json.dumps(last),
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert first.ok and again.ok
    assert [(r["key"], r["status"]) for r in first.json()["results"]] == [
        (r["key"], r["status"]) for r in again.json()["results"]
    ]
    after = shell(demo_env, PEOPLE.format(ids=ids))
    v = {int(k): val for k, val in before.items()}
    w = {int(k): val for k, val in after.items()}
    assert w[ids[0]][0] == v[ids[0]][0]  # confirming moves no version
    assert w[ids[1]][0] == v[ids[1]][0] + 1 and w[ids[1]][1] == "渔民"  # once, not twice
    assert w[ids[2]][0] == v[ids[2]][0] + 1 and w[ids[2]][2] == "moved_away"
    assert w[ids[3]][0] == v[ids[3]][0] + 1 and w[ids[3]][1] == "服务器改的"  # not the phone's
    assert shell(demo_env, ADDED.format(name=name)) == 1
    # What the phone stores is sealed: no name in the clear in IndexedDB.
    stored = page.evaluate(
        """() => new Promise(resolve => {
            const req = indexedDB.open("wangge-field");
            req.onsuccess = () => {
                const tx = req.result.transaction(["packages", "queue"]);
                const out = [];
                tx.objectStore("packages").getAll().onsuccess = e => out.push(...e.target.result);
                tx.objectStore("queue").getAll().onsuccess = e => out.push(...e.target.result);
                tx.oncomplete = () => { req.result.close(); resolve(out.map(r => Object.keys(r).join(",") + ":" + (r.box && r.box.data instanceof ArrayBuffer))); };
            };
        })"""
    )
    assert stored and all(s.endswith(":true") for s in stored), stored


def test_the_field_pages_open_without_signal_from_the_service_worker(
    phone: Any, live_demo: str
) -> None:
    """The service worker keeps the phone's shell: 我的任务 opens offline, with the banner."""
    from tests.browser.conftest import login

    page, context = phone, phone.context
    login(page, live_demo, "demo-grid")
    page.goto(f"{live_demo}/campaigns/my/")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)", timeout=20000)
    # The page that registered the worker is not controlled by it yet: the next load is.
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20000)
    page.wait_for_function(
        "() => caches.open('wangge-field-pages').then(c => c.match('/campaigns/my/'))"
        ".then(hit => !!hit)",
        timeout=20000,
    )
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-offline]", state="visible", timeout=20000)
    assert page.locator("h1").inner_text() == "我的任务"
