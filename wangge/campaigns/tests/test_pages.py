"""Desktop pages of campaigns: each renders for the right users and is a 404 out of scope,
the forms post through to the services, the collector is offered no approval, the list pages'
query counts do not grow with the data, and nothing English is left on them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from wangge.campaigns import edits, services
from wangge.campaigns.models import (
    Campaign,
    EditStatus,
    FieldEdit,
    Task,
    TaskAssignee,
    TaskState,
)
from wangge.campaigns.tests.factories import (
    LILE,
    MINE,
    YINGNAN,
    campaign,
    edit,
    reset_sequences,
    task_of,
)
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db

OTHER_STREET = "440704001"  # 江南街道: outside demo-street's, demo-community's and demo-grid's


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def text(response: Any) -> str:
    return response.content.decode()


def main_text(response: Any) -> str:
    """What a person reads in the page's main part: no tags, no attribute values."""
    body = text(response)
    body = body[body.index("<main>") : body.index("</main>")]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b")


def english_in(response: Any) -> list[str]:
    # Login names (demo-…) are data, not interface text.
    words = ENGLISH.findall(main_text(response))
    return sorted(
        {w for w in words if w not in {"demo", "grid", "street", "community", "district"}}
    )


# -- the list ---------------------------------------------------------------------------------


def test_the_list_shows_names_progress_and_tasks_by_state(client_as: Any) -> None:
    c = campaign(name="礼乐街道基础信息采集")
    elsewhere = campaign(name="江南街道核查", regions=[OTHER_STREET])
    page = client_as("demo-street").get("/campaigns/")
    assert page.status_code == 200
    body = text(page)
    assert c.name in body and elsewhere.name not in body
    assert "礼乐街道" in body and "基础信息采集核查" in body
    assert 'href="/campaigns/new/"' in body
    assert "<progress" in body
    assert english_in(page) == []
    # The grid worker sees it too (a task in their grid), without the "new" button.
    grid = client_as("demo-grid").get("/campaigns/")
    assert grid.status_code == 200 and c.name in text(grid)
    assert 'href="/campaigns/new/"' not in text(grid)
    # A department officer has no campaigns at all.
    assert client_as("demo-dept").get("/campaigns/").status_code == 404


def test_the_list_costs_the_same_queries_with_more_campaigns(
    client_as: Any, django_assert_max_num_queries: Any
) -> None:
    campaign(name="一")
    client = client_as("demo-street")
    client.get("/campaigns/")  # warm the session and the caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/campaigns/")
    campaign(name="二")
    campaign(name="三", regions=[YINGNAN])
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get("/campaigns/")
    assert "三" in text(page)


def test_the_header_links_to_campaigns(client_as: Any) -> None:
    assert 'href="/campaigns/"' in text(client_as("demo-grid").get("/"))
    assert 'href="/campaigns/"' not in text(client_as("demo-dept").get("/"))


# -- a new campaign -------------------------------------------------------------------------


def test_the_new_campaign_form_offers_templates_and_the_users_regions(client_as: Any) -> None:
    page = client_as("demo-community").get("/campaigns/new/")
    assert page.status_code == 200
    body = text(page)
    for name in ("基础信息采集核查", "入户走访排查", "出租屋核查", "安全隐患排查"):
        assert name in body
    assert 'value="440704003001"' in body and 'value="440704003001001"' in body
    assert 'value="440704003"' not in body  # not the whole street: only their village
    assert 'value="440704001' not in body
    assert english_in(page) == []
    assert client_as("demo-grid").get("/campaigns/new/").status_code == 404


def test_posting_the_form_starts_the_campaign(client_as: Any) -> None:
    today = timezone.localdate()
    response = client_as("demo-street").post(
        "/campaigns/new/",
        {
            "name": "礼乐出租屋核查",
            "template": "rental",
            "regions": [YINGNAN],
            "start": today.isoformat(),
            "end": (today + dt.timedelta(days=5)).isoformat(),
            "spot_check": "20",
            "assignment": "open",
        },
    )
    assert response.status_code == 302
    c = Campaign.objects.dangerously_unscoped().get(name="礼乐出租屋核查")
    assert response["Location"] == f"/campaigns/{c.pk}/"
    assert c.template.code == "rental" and c.kinds == ["room", "household", "person"]
    assert c.spot_check_rate == pytest.approx(0.2)
    tasks = Task.objects.dangerously_unscoped().filter(campaign=c)
    assert tasks.count() == 5 and not tasks.filter(team_assigned=True).exists()


def test_a_refused_form_says_why_and_starts_nothing(client_as: Any) -> None:
    today = timezone.localdate()
    response = client_as("demo-street").post(
        "/campaigns/new/",
        {"name": "无区域", "template": "basic", "start": today, "end": today, "regions": []},
    )
    assert response.status_code == 400
    assert "请选择" in text(response) or "选择" in text(response)
    assert not Campaign.objects.dangerously_unscoped().filter(name="无区域").exists()
    # Another street's grid is refused like an unknown one.
    response = client_as("demo-street").post(
        "/campaigns/new/",
        {
            "name": "越界",
            "template": "basic",
            "start": today,
            "end": today,
            "regions": [OTHER_STREET + "001001"],
        },
    )
    assert response.status_code == 400
    assert not Campaign.objects.dangerously_unscoped().filter(name="越界").exists()


# -- the epidemic list -------------------------------------------------------------------------


def test_the_priority_list_and_the_visits_over_it(client_as: Any) -> None:
    client = client_as("demo-street")
    page = client.get("/campaigns/priority/", {"regions": [YINGNAN], "reasons": ["alone"]})
    assert page.status_code == 200
    alone = Person.objects.dangerously_unscoped().filter(
        grid_code=MINE, care_tags__contains="elderly_alone"
    )[0]
    body = text(page)
    assert alone.name in body and "独居" in body
    assert "英南村第1网格" in body or "网格" in body
    assert english_in(page) == []
    response = client.post(
        "/campaigns/priority/",
        {"regions": [YINGNAN], "reasons": ["alone"], "recent_days": "14"},
    )
    assert response.status_code == 302
    c = Campaign.objects.dangerously_unscoped().order_by("-id")[0]
    assert c.template.code == "visit"
    assert c.criteria["reasons"] == ["alone"] and c.criteria["households"] >= 0
    assert Task.objects.dangerously_unscoped().filter(campaign=c).count() == 5
    assert client_as("demo-grid").get("/campaigns/priority/").status_code == 404


# -- a campaign -----------------------------------------------------------------------------


def test_the_campaign_page_shows_progress_the_map_and_tasks(client_as: Any) -> None:
    c = campaign()
    client = client_as("demo-street")
    for level in ("", "?level=street", "?level=grid"):
        page = client.get(f"/campaigns/{c.pk}/{level}")
        assert page.status_code == 200
        assert english_in(page) == []
    body = text(page)
    assert "英南村" in body and MINE in body
    assert 'id="campaign-map"' in body and "&quot;" + MINE + "&quot;" in body
    assert f'href="/campaigns/tasks/{task_of(c).pk}/"' in body
    assert f'action="/campaigns/{c.pk}/close/"' in body
    grid = client_as("demo-grid").get(f"/campaigns/{c.pk}/")
    assert grid.status_code == 200 and "/close/" not in text(grid)
    elsewhere = campaign(regions=[OTHER_STREET])
    assert client.get(f"/campaigns/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/campaigns/{elsewhere.pk}/quality/").status_code == 404


def test_closing_the_campaign(client_as: Any) -> None:
    c = campaign()
    refused = client_as("demo-grid").post(f"/campaigns/{c.pk}/close/")
    assert refused.status_code in {302, 403, 404}
    c.refresh_from_db()
    assert c.status == "open"
    assert client_as("demo-street").post(f"/campaigns/{c.pk}/close/").status_code == 302
    c.refresh_from_db()
    assert c.status == "closed"


def test_the_quality_report(client_as: Any) -> None:
    c = campaign()
    page = client_as("demo-community").get(f"/campaigns/{c.pk}/quality/")
    assert page.status_code == 200
    assert "英南村第1网格" in text(page) or MINE in text(page)
    assert "→" in text(page)
    assert english_in(page) == []


# -- a task ---------------------------------------------------------------------------------


def _task_page(client: Any, task: Task) -> str:
    page = client.get(f"/campaigns/tasks/{task.pk}/")
    assert page.status_code == 200
    assert english_in(page) == []
    return text(page)


def test_the_task_page_and_the_review(client_as: Any) -> None:
    c = campaign(spot_check_rate=0.0)
    task = task_of(c)
    approve = f'action="/campaigns/tasks/{task.pk}/act/approve/"'
    body = _task_page(client_as("demo-grid"), task)
    assert task.title in body and approve not in body
    services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    task.refresh_from_db()
    # The collector still sees no approval, now that it is submitted.
    assert approve not in _task_page(client_as("demo-grid"), task)
    reviewer = client_as("demo-community")
    assert approve in _task_page(reviewer, task)
    # A return needs a reason.
    reviewer.post(
        f"/campaigns/tasks/{task.pk}/act/return/", {"reason": "", "version": task.version}
    )
    task.refresh_from_db()
    assert task.state == TaskState.SUBMITTED
    reviewer.post(
        f"/campaigns/tasks/{task.pk}/act/return/", {"reason": "漏了102房", "version": task.version}
    )
    task.refresh_from_db()
    assert task.state == TaskState.RETURNED and task.returned_reason == "漏了102房"
    assert "漏了102房" in _task_page(client_as("demo-grid"), task)
    services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    task.refresh_from_db()
    response = reviewer.post(
        f"/campaigns/tasks/{task.pk}/act/approve/", {"version": str(task.version)}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.APPROVED
    assert "已" in _task_page(reviewer, task)  # the history, in Chinese


def test_a_reviewer_who_took_part_is_told_why_and_offered_no_approval(client_as: Any) -> None:
    c = campaign(spot_check_rate=0.0)
    task = task_of(c)
    p = Person.objects.dangerously_unscoped().filter(grid_code=MINE, retired_on=None)[0]
    edits.apply_edits(
        actor=who("demo-community"),
        task_id=task.pk,
        edits=[edit("confirm", "person", p.pk, p.version)],
    )
    services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    body = _task_page(client_as("demo-community"), task)
    assert f'action="/campaigns/tasks/{task.pk}/act/approve/"' not in body
    assert "其他人" in body or "参与" in body  # the refusal, in Chinese


def test_the_task_page_is_not_found_out_of_scope(client_as: Any) -> None:
    c = campaign(regions=[OTHER_STREET])
    task = Task.objects.dangerously_unscoped().filter(campaign=c)[0]
    for url in (f"/campaigns/tasks/{task.pk}/", f"/campaigns/tasks/{task.pk}/visit-sheet/"):
        assert client_as("demo-street").get(url).status_code == 404
    response = client_as("demo-street").post(
        f"/campaigns/tasks/{task.pk}/act/return/", {"reason": "越界"}
    )
    assert response.status_code == 404


def test_helpers_are_added_by_login_name_and_removed(client_as: Any) -> None:
    c = campaign()
    task = task_of(c)
    client = client_as("demo-street")
    client.post(
        f"/campaigns/tasks/{task.pk}/act/assign/", {"username": "demo-district", "role": "helper"}
    )
    district = User.objects.get(username="demo-district")
    assert TaskAssignee.objects.dangerously_unscoped().filter(task=task, user=district).exists()
    body = _task_page(client, task)
    assert str(district) in body
    client.post(f"/campaigns/tasks/{task.pk}/act/unassign/", {"user_id": district.pk})
    assert not TaskAssignee.objects.dangerously_unscoped().filter(task=task, user=district).exists()
    # The collector may not name anyone.
    client_as("demo-grid").post(
        f"/campaigns/tasks/{task.pk}/act/assign/", {"username": "demo-district"}
    )
    assert not TaskAssignee.objects.dangerously_unscoped().filter(task=task, user=district).exists()


def test_an_open_task_is_taken_with_a_visible_countdown_and_released(client_as: Any) -> None:
    c = campaign(team_assigned=False)
    task = task_of(c)
    client = client_as("demo-grid")
    assert f'action="/campaigns/tasks/{task.pk}/act/take/"' in _task_page(client, task)
    client.post(f"/campaigns/tasks/{task.pk}/act/take/")
    task.refresh_from_db()
    assert task.held_by is not None and task.held_by.username == "demo-grid"
    body = _task_page(client, task)
    assert 'class="countdown" data-until="' in body
    assert f'action="/campaigns/tasks/{task.pk}/act/release/"' in body
    client.post(f"/campaigns/tasks/{task.pk}/act/release/")
    task.refresh_from_db()
    assert task.held_by is None


def test_a_conflict_side_by_side_and_resolved_from_the_page(client_as: Any) -> None:
    c = campaign()
    task = task_of(c)
    p = Person.objects.dangerously_unscoped().filter(grid_code=MINE, retired_on=None)[0]
    seen = p.version
    from wangge.ledger import services as ledger

    ledger.person_update(
        actor=who("demo-street"), person_id=p.pk, version=seen, values={"occupation": "司机"}
    )
    edits.apply_edits(
        actor=who("demo-grid"),
        task_id=task.pk,
        edits=[edit("correct", "person", p.pk, seen, fields={"occupation": "厨师"})],
    )
    conflict = FieldEdit.objects.dangerously_unscoped().get(task=task, status=EditStatus.CONFLICT)
    reviewer = client_as("demo-community")
    body = _task_page(reviewer, task)
    assert "司机" in body and "厨师" in body
    assert f'action="/campaigns/conflicts/{conflict.pk}/resolve/"' in body
    # The collector sees the conflict but may not decide it.
    assert f"/campaigns/conflicts/{conflict.pk}/resolve/" not in _task_page(
        client_as("demo-grid"), task
    )
    response = reviewer.post(
        f"/campaigns/conflicts/{conflict.pk}/resolve/", {"choice": "server", "task": task.pk}
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    p.refresh_from_db()
    assert conflict.status == EditStatus.RESOLVED and conflict.resolution == "server"
    assert p.occupation == "司机"


def test_the_worklist_filters_by_status(client_as: Any) -> None:
    c = campaign()
    task = task_of(c)
    p = Person.objects.dangerously_unscoped().filter(grid_code=MINE, retired_on=None)[0]
    edits.apply_edits(
        actor=who("demo-grid"), task_id=task.pk, edits=[edit("confirm", "person", p.pk, p.version)]
    )
    client = client_as("demo-grid")
    confirmed = text(client.get(f"/campaigns/tasks/{task.pk}/?status=confirmed"))
    pending = text(client.get(f"/campaigns/tasks/{task.pk}/?status=pending"))
    row = f"<td>{p.name} <small>"
    assert row in confirmed and row not in pending


def test_scope_of_the_factories_world() -> None:
    """The world these tests rely on: 礼乐街道 has 7 grids."""
    c = campaign(actor=Scope.system("t"), regions=[LILE])
    assert Task.objects.dangerously_unscoped().filter(campaign=c).count() == 7


# -- exports (their data comes from `exports`, another part of the module) --------------------


def test_the_visit_sheet_prints_households_with_blank_columns(client_as: Any) -> None:
    c = campaign(template="visit")
    task = task_of(c)
    page = client_as("demo-grid").get(f"/campaigns/tasks/{task.pk}/visit-sheet/")
    assert page.status_code == 200
    body = text(page)
    head = Person.objects.dangerously_unscoped().filter(grid_code=MINE, relation="户主")[0]
    assert head.name in body and f"H{MINE}00001" in body
    assert head.id_number not in body  # masked
    assert body.count('class="blank"') >= 4 and "签名" in body
    assert english_in(page) == []


def test_the_progress_workbook_downloads(client_as: Any) -> None:
    c = campaign()
    response = client_as("demo-street").get(f"/campaigns/{c.pk}/report.xlsx")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    elsewhere = campaign(regions=[OTHER_STREET])
    assert client_as("demo-street").get(f"/campaigns/{elsewhere.pk}/report.xlsx").status_code == 404
