"""The demo's campaigns: the April 2022 one over all 190 grids, part-way through, with the demo
logins in their roles, and an open one for the phone pages (the demo is built once per session
by the root conftest)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from wangge.campaigns import selectors
from wangge.campaigns.models import (
    AssigneeRole,
    Campaign,
    EditStatus,
    FieldEdit,
    RecordStatus,
    Task,
    TaskAssignee,
    TaskRecord,
    TaskState,
)
from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.demo import campaigns as demo

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def user(name: str) -> User:
    return User.objects.get(username=name)


def april() -> Campaign:
    return Campaign.objects.dangerously_unscoped().get(name=demo.APRIL_NAME)


def test_the_april_2022_campaign_covers_all_190_grids_part_way_through() -> None:
    c = april()
    assert (c.start, c.template.code, c.regions) == (dt.date(2022, 4, 19), "basic", ["440704"])
    assert c.end < timezone.localdate() and c.status == "open"
    tasks = list(Task.objects.dangerously_unscoped().filter(campaign=c))
    assert len(tasks) == 190 and len({t.grid_code for t in tasks}) == 190
    states = Counter(t.state for t in tasks)
    assert states[TaskState.APPROVED] > 190 * 0.6  # most grids approved
    assert states[TaskState.SUBMITTED] >= 5
    assert 3 <= states[TaskState.RETURNED] <= 15
    assert states[TaskState.IN_PROGRESS] >= 1 and states[TaskState.ASSIGNED] >= 1
    for t in tasks:
        if t.state == TaskState.RETURNED:
            assert t.returned_reason and t.returns == 1
    # An approved grid has every record checked; the spot check approved a share of them.
    done = {t.pk for t in tasks if t.state == TaskState.APPROVED}
    assert not (
        TaskRecord.objects.dangerously_unscoped()
        .filter(task_id__in=done, status=RecordStatus.PENDING)
        .exists()
    )
    spot = [t for t in tasks if t.spot_check]
    assert 0.05 * len(done) < len(spot) < 0.4 * len(done)
    # Conflicts wait on submitted tasks: the record changed in the ledger after the download.
    conflicts = FieldEdit.objects.dangerously_unscoped().filter(
        task__campaign=c, status=EditStatus.CONFLICT
    )
    assert conflicts.count() > 0
    assert {e.task.state for e in conflicts.select_related("task")} == {TaskState.SUBMITTED}
    progress = selectors.progress(actor=scope_for(user("demo-district")), campaign=c)
    assert progress["tasks"] == 190 and progress["conflicts"] == conflicts.count()
    people = progress["records"]["person"]
    assert people["total"] > 3000 and people["verified"] > 0.7 * people["total"]
    assert people["corrected"] > 0 and people["retired"] > 0 and people["added"] > 0


def test_the_demo_logins_in_their_roles() -> None:
    c = april()
    mine = Task.objects.dangerously_unscoped().get(campaign=c, grid_code=demo.MINE)
    grid, community, street = user("demo-grid"), user("demo-community"), user("demo-street")
    # demo-grid is responsible for its grid and collects it: back in progress after a return,
    # records left.
    assert TaskAssignee.objects.dangerously_unscoped().get(task=mine, user=grid).role == (
        AssigneeRole.RESPONSIBLE
    )
    assert mine.state == TaskState.IN_PROGRESS and mine.returned_reason
    left = TaskRecord.objects.dangerously_unscoped().filter(task=mine, status=RecordStatus.PENDING)
    assert left.count() > 0
    assert FieldEdit.objects.dangerously_unscoped().filter(task=mine, actor=grid).count() > 0
    # demo-community reviewed 英南村's grids and has one waiting with conflicts; demo-street
    # spot-checked 礼乐街道's and has some waiting.
    yingnan = Task.objects.dangerously_unscoped().filter(
        campaign=c, grid_code__startswith=demo.YINGNAN
    )
    assert yingnan.filter(reviewed_by=community).count() >= 3
    assert yingnan.filter(state=TaskState.RETURNED).exists()
    assert (
        FieldEdit.objects.dangerously_unscoped()
        .filter(task__in=yingnan.filter(state=TaskState.SUBMITTED), status=EditStatus.CONFLICT)
        .exists()
    )
    lile = Task.objects.dangerously_unscoped().filter(campaign=c, grid_code__startswith=demo.LILE)
    assert (
        lile.filter(spot_checked_by=street).exists()
        or lile.filter(state=TaskState.REVIEWED).exists()
    )
    assert lile.filter(state=TaskState.REVIEWED).count() >= 1
    # The tasks' log has the campaign's dates.
    from wangge.campaigns.models import TaskAction

    days = {a.at.date() for a in TaskAction.objects.dangerously_unscoped().filter(task__campaign=c)}
    assert min(days) >= c.start and max(days) <= dt.date(2022, 6, 30)


def test_an_open_campaign_is_on_demo_grids_phone() -> None:
    today = timezone.localdate()
    now = Campaign.objects.dangerously_unscoped().get(name=demo.VISIT_NAME)
    assert now.start <= today <= now.end and now.template.code == "visit"
    mine = [
        m
        for m in selectors.my_tasks(actor=scope_for(user("demo-grid")))
        if m.task.campaign_id == now.pk
    ]
    assert len(mine) == 1 and mine[0].task.grid_code == demo.MINE
    assert mine[0].task.state == TaskState.ASSIGNED and mine[0].left == mine[0].total > 0
    visits = selectors.progress(actor=scope_for(user("demo-street")), campaign=now)
    assert visits["tasks"] == 65 and sum(visits["households"].values()) > 0
