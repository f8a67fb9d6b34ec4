"""The campaigns API over HTTP: status codes, scope (out of scope is 404), the package (gzip),
idempotent edit batches, a stale edit as a conflict the reviewer resolves, the collector who
cannot approve — on the factories' world."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from wangge.campaigns.models import EditStatus, FieldEdit, Task, TaskState
from wangge.campaigns.tests.factories import LILE, MINE, campaign, edit, reset_sequences, task_of
from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.ledger import services as ledger
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db
OTHER = "440704001001001"  # 江南街道: outside demo-grid's, demo-community's, demo-street's scope
Api = Callable[[str | None], Client]


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def person_of(grid: str, n: int = 0) -> Person:
    return (
        Person.objects.dangerously_unscoped()
        .filter(grid_code=grid, retired_on=None)
        .order_by("id")[n]
    )


def test_create_list_and_read_a_campaign(api_as: Api) -> None:
    street = api_as("demo-street")
    body = {
        "name": "礼乐街道基础信息采集核查",
        "template": "basic",
        "regions": [LILE],
        "start": timezone.localdate().isoformat(),
        "end": (timezone.localdate() + dt.timedelta(days=11)).isoformat(),
    }
    made = post(street, "/api/v1/campaigns", body)
    assert made.status_code == 201, made.content.decode()
    assert made.json()["tasks"] == 7  # 礼乐街道 has 7 grids in the test world
    cid = made.json()["campaign"]["id"]
    assert made.json()["campaign"]["template"] == "basic"
    # The grid worker may not start one (it manages nothing): not found, nothing made.
    refused = post(api_as("demo-grid"), "/api/v1/campaigns", body)
    assert refused.status_code == 404 and set(refused.json()) == {"code", "message", "details"}
    assert [c["id"] for c in street.get("/api/v1/campaigns").json()] == [cid]
    assert api_as("demo-grid").get(f"/api/v1/campaigns/{cid}").status_code == 200
    tasks = street.get(f"/api/v1/campaigns/{cid}/tasks").json()
    assert len(tasks) == 7 and {t["state"] for t in tasks} == {"assigned"}
    assert street.get(f"/api/v1/campaigns/{cid}/tasks?state=submitted").json() == []
    # demo-grid sees its grid's task only.
    mine = api_as("demo-grid").get(f"/api/v1/campaigns/{cid}/tasks").json()
    assert [t["grid_code"] for t in mine] == [MINE]
    # A campaign over another street is not found for them.
    other = campaign(regions=["440704001"])
    assert street.get(f"/api/v1/campaigns/{other.pk}").status_code == 404
    assert street.get(f"/api/v1/campaigns/{other.pk}/progress").status_code == 404
    assert api_as(None).get("/api/v1/campaigns").status_code == 401


def test_my_tasks_task_detail_and_the_package(api_as: Api) -> None:
    c = campaign()
    task = task_of(c)
    grid = api_as("demo-grid")
    mine = grid.get("/api/v1/campaign-tasks/mine").json()
    assert [m["task"]["id"] for m in mine] == [task.pk]
    assert mine[0]["left"] == mine[0]["total"] > 0
    detail = grid.get(f"/api/v1/campaign-tasks/{task.pk}").json()
    assert detail["abilities"]["work"] is True and detail["abilities"]["review"] is False
    plain = grid.get(f"/api/v1/campaign-tasks/{task.pk}/package")
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    data = json.loads(plain.content)
    assert {r["kind"] for r in data["records"]} >= {"person", "household"}
    assert all(r["id"] and r["version"] for r in data["records"])
    zipped = grid.get(f"/api/v1/campaign-tasks/{task.pk}/package", HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert len(zipped.content) < len(plain.content) == int(zipped["X-Package-Bytes"])
    assert json.loads(gzip.decompress(zipped.content))["records"] == data["records"]


def test_out_of_scope_is_not_found(api_as: Api) -> None:
    c = campaign(regions=[LILE, "440704001"])
    theirs = task_of(c, OTHER)
    grid = api_as("demo-grid")
    p = person_of(OTHER)
    for path in ("", "/package", "/conflicts"):
        assert grid.get(f"/api/v1/campaign-tasks/{theirs.pk}{path}").status_code == 404
    sent = post(
        grid,
        f"/api/v1/campaign-tasks/{theirs.pk}/edits",
        {"edits": [edit("correct", "person", p.pk, p.version, fields={"occupation": "渔民"})]},
    )
    assert sent.status_code == 404 and p.name not in sent.content.decode()
    assert post(grid, f"/api/v1/campaign-tasks/{theirs.pk}/actions/submit", {}).status_code == 404
    p.refresh_from_db()
    assert p.version == 1 and not FieldEdit.objects.dangerously_unscoped().exists()


def test_a_batch_sent_twice_is_applied_once(api_as: Api) -> None:
    task = task_of(campaign())
    grid = api_as("demo-grid")
    p1, p2 = person_of(MINE, 0), person_of(MINE, 1)
    batch = {
        "edits": [
            edit("confirm", "person", p1.pk, p1.version),
            edit("correct", "person", p2.pk, p2.version, fields={"occupation": "渔民"}),
            {"key": "bad-1", "op": "explode", "kind": "person"},
        ]
    }
    first = post(grid, f"/api/v1/campaign-tasks/{task.pk}/edits", batch)
    assert first.status_code == 200, first.content
    assert [r["status"] for r in first.json()["results"]] == ["applied", "applied", "rejected"]
    assert first.json()["results"][2]["code"] == "invalid_op"
    again = post(grid, f"/api/v1/campaign-tasks/{task.pk}/edits", batch)

    # The stored answer: the same status and record (a replay does not repeat `version`).
    def same(r: dict[str, Any]) -> tuple[Any, ...]:
        return r["key"], r["status"], r["record_id"], r["code"]

    assert [same(r) for r in again.json()["results"]] == [same(r) for r in first.json()["results"]]
    p2.refresh_from_db()
    assert p2.occupation == "渔民" and p2.version == 2  # not 3
    assert FieldEdit.objects.dangerously_unscoped().filter(task=task).count() == 2
    assert first.json()["task"]["state"] == TaskState.IN_PROGRESS


def test_a_stale_edit_is_a_conflict_the_reviewer_resolves(api_as: Api) -> None:
    task = task_of(campaign())
    p = person_of(MINE)
    seen = p.version
    community = scope_for(User.objects.get(username="demo-community"))
    ledger.person_update(
        actor=community, person_id=p.pk, version=seen, values={"occupation": "司机"}
    )
    grid = api_as("demo-grid")
    sent = post(
        grid,
        f"/api/v1/campaign-tasks/{task.pk}/edits",
        {"edits": [edit("correct", "person", p.pk, seen, fields={"occupation": "厨师"})]},
    )
    result = sent.json()["results"][0]
    assert result["status"] == "conflict" and result["conflict_fields"] == ["occupation"]
    reviewer = api_as("demo-community")
    shown = reviewer.get(f"/api/v1/campaign-tasks/{task.pk}/conflicts").json()
    assert shown[0]["rows"] == [
        {"field": "occupation", "field_value": "厨师", "ledger_value": "司机"}
    ]
    edit_id = shown[0]["id"]
    # The collector resolves nothing; another task's path does not find the edit.
    assert (
        post(
            grid,
            f"/api/v1/campaign-tasks/{task.pk}/conflicts/{edit_id}/resolve",
            {"choice": "field"},
        ).status_code
        == 403
    )
    elsewhere = task_of(task.campaign, "440704003001002")
    wrong = f"/api/v1/campaign-tasks/{elsewhere.pk}/conflicts/{edit_id}/resolve"
    assert post(reviewer, wrong, {"choice": "field"}).status_code == 404
    done = post(
        reviewer,
        f"/api/v1/campaign-tasks/{task.pk}/conflicts/{edit_id}/resolve",
        {"choice": "server"},
    )
    assert done.status_code == 200 and done.json()["resolution"] == "server"
    p.refresh_from_db()
    assert p.occupation == "司机"
    assert FieldEdit.objects.dangerously_unscoped().get(pk=edit_id).status == EditStatus.RESOLVED


def test_the_collector_cannot_approve_the_reviewer_returns_with_a_reason(api_as: Api) -> None:
    task = task_of(campaign())
    grid, reviewer = api_as("demo-grid"), api_as("demo-community")
    p = person_of(MINE)
    path = f"/api/v1/campaign-tasks/{task.pk}"
    post(grid, f"{path}/edits", {"edits": [edit("confirm", "person", p.pk, p.version)]})
    submitted = post(grid, f"{path}/actions/submit", {})
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    refused = post(grid, f"{path}/actions/approve", {})
    assert refused.status_code == 403, refused.content
    assert Task.objects.dangerously_unscoped().get(pk=task.pk).state == TaskState.SUBMITTED
    assert post(reviewer, f"{path}/actions/return", {}).status_code == 400  # reason required
    stale = post(reviewer, f"{path}/actions/return", {"reason": "门牌号缺", "version": 1})
    assert stale.status_code == 409
    back = post(reviewer, f"{path}/actions/return", {"reason": "门牌号缺"})
    assert back.json()["state"] == "returned" and back.json()["returned_reason"] == "门牌号缺"
    mine = grid.get("/api/v1/campaign-tasks/mine").json()
    assert mine[0]["task"]["returned_reason"] == "门牌号缺"
    assert post(grid, f"{path}/actions/start", {}).json()["state"] == "in_progress"
    post(grid, f"{path}/actions/submit", {})
    assert post(reviewer, f"{path}/actions/approve", {}).json()["state"] == "approved"


def test_take_renew_release_and_assign_a_helper(api_as: Api) -> None:
    task = task_of(campaign(team_assigned=False))
    grid = api_as("demo-grid")
    path = f"/api/v1/campaign-tasks/{task.pk}"
    taken = post(grid, f"{path}/actions/take", {})
    assert taken.status_code == 200 and taken.json()["held_until"]
    renewed = post(grid, f"{path}/actions/renew", {})
    assert renewed.json()["version"] == taken.json()["version"] + 1
    assert post(grid, f"{path}/actions/release", {}).json()["held_until"] is None
    assert post(grid, f"{path}/assignees", {"username": "demo-dept"}).status_code in {403, 404}
    named = post(api_as("demo-street"), f"{path}/assignees", {"username": "demo-dept"})
    assert named.status_code == 201 and named.json()["role"] == "helper"
    assert [a["role"] for a in grid.get(path).json()["assignees"]] == ["helper"]


def test_progress_by_level_and_quality(api_as: Api) -> None:
    c = campaign()
    task = task_of(c)
    p = person_of(MINE)
    post(
        api_as("demo-grid"),
        f"/api/v1/campaign-tasks/{task.pk}/edits",
        {"edits": [edit("confirm", "person", p.pk, p.version)]},
    )
    street = api_as("demo-street")
    whole = street.get(f"/api/v1/campaigns/{c.pk}/progress").json()
    assert whole["tasks"] == 7 and whole["records"]["person"]["confirmed"] == 1
    assert whole["rows"] == []
    rows = street.get(f"/api/v1/campaigns/{c.pk}/progress?level=community").json()["rows"]
    assert [(r["code"], r["records"]["person"]["verified"]) for r in rows] == [
        ("440704003001", 1),
        ("440704003002", 0),
    ]
    assert street.get(f"/api/v1/campaigns/{c.pk}/progress?level=city").status_code == 422
    quality = street.get(f"/api/v1/campaigns/{c.pk}/quality").json()
    assert len(quality) == 7 * len(c.kinds) and set(quality[0]["before"]) == set(quality[0]["now"])
