"""Campaigns: creating one, field edits (idempotent, in order, versioned), review rules,
helpers, holds, progress and quality — exact numbers on the factories' world."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from wangge.campaigns import edits, scan, selectors, services
from wangge.campaigns.models import (
    EditStatus,
    FieldEdit,
    RecordStatus,
    Task,
    TaskAction,
    TaskAssignee,
    TaskRecord,
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
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.roles import Role
from wangge.core.scope import Scope, scope_for
from wangge.core.tests.factories import user_with
from wangge.ledger.models import Household, LedgerChange, Organisation, Person, Room, Thing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def people(prefix: str) -> Any:
    return Person.objects.dangerously_unscoped().filter(
        grid_code__startswith=prefix, retired_on=None
    )


def records_of(task: Task, kind: str) -> list[TaskRecord]:
    return list(TaskRecord.objects.dangerously_unscoped().filter(task=task, kind=kind))


def send(actor: Any, task: Task, *items: dict[str, Any]) -> list[dict[str, Any]]:
    return edits.apply_edits(actor=actor, task_id=task.pk, edits=list(items))["results"]


def test_one_task_per_grid_with_every_record_of_the_kinds() -> None:
    c = campaign(actor=who("demo-street"))
    tasks = Task.objects.dangerously_unscoped().filter(campaign=c)
    assert tasks.count() == 7  # 英南村 5 grids + 南村 2
    assert sorted(tasks.values_list("grid_code", flat=True))[0] == MINE
    expected = {
        "person": people(LILE).count(),
        "household": Household.objects.dangerously_unscoped()
        .filter(grid_code__startswith=LILE)
        .count(),
        "room": Room.objects.dangerously_unscoped().filter(grid_code__startswith=LILE).count(),
        "organisation": Organisation.objects.dangerously_unscoped()
        .filter(grid_code__startswith=LILE)
        .count(),
        "thing": Thing.objects.dangerously_unscoped().filter(grid_code__startswith=LILE).count(),
    }
    got = {
        k: TaskRecord.objects.dangerously_unscoped().filter(campaign_id_copy=c.pk, kind=k).count()
        for k in expected
    }
    assert got == expected and expected["person"] >= 21
    mine = task_of(c)
    # The worklist's order: the room, its household, its people; then organisations, things.
    kinds = [
        r.kind
        for r in TaskRecord.objects.dangerously_unscoped()
        .filter(task=mine)
        .order_by("sort_key", "id")
    ]
    assert kinds[:4] == ["room", "household", "person", "person"]
    assert kinds[-2:] == ["thing", "thing"]
    entry = AuditEntry.objects.filter(action="campaign.create").order_by("-seq")[0]
    assert entry.details["tasks"] == 7


def test_who_may_start_a_campaign_and_where() -> None:
    with pytest.raises(NotFound):  # a grid leader has no campaigns.manage anywhere
        campaign(actor=who("demo-grid"), regions=[MINE])
    with pytest.raises(ValidationFailed) as exc:  # another street: unknown to the community
        campaign(actor=who("demo-community"), regions=["440704001"])
    assert exc.value.code == "unknown_region"
    c = campaign(actor=who("demo-community"), regions=[YINGNAN])
    assert Task.objects.dangerously_unscoped().filter(campaign=c).count() == 5
    with pytest.raises(ValidationFailed) as exc:
        campaign(actor=who("demo-community"), regions=[YINGNAN], template="nonsense")
    assert exc.value.code == "unknown_template"


def test_the_grid_team_is_assigned_leader_responsible() -> None:
    from wangge.teams.models import Assignment

    leader = (
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code=MINE, role="leader", valid_to=None)
        .select_related("staff")
        .get()
        .staff
    )
    leader.user = User.objects.get(username="demo-grid")
    leader.save(update_fields=["user"])
    c = campaign()
    named = list(
        TaskAssignee.objects.dangerously_unscoped()
        .filter(task=task_of(c))
        .values_list("user__username", "role")
    )
    assert named == [("demo-grid", "responsible")]
    assert [m.task.pk for m in selectors.my_tasks(actor=who("demo-grid"))] == [task_of(c).pk]


def test_confirm_correct_retire_add_and_progress() -> None:
    c = campaign()
    task = task_of(c)
    grid = who("demo-grid")
    p1, p2, p3 = people(MINE).order_by("id")[:3]
    thing = Thing.objects.dangerously_unscoped().filter(grid_code=MINE).first()
    results = send(
        grid,
        task,
        edit("confirm", "person", p1.pk, p1.version),
        edit("correct", "person", p2.pk, p2.version, fields={"occupation": "渔民"}),
        edit(
            "retire",
            "person",
            p3.pk,
            p3.version,
            reason="moved_away",
            on=timezone.localdate().isoformat(),
        ),
        edit(
            "add",
            "person",
            fields={"name": "新生儿", "id_number": "11010519491231002X"},
            ref="new-1",
        ),
        edit("confirm", "thing", thing.pk, thing.version),
    )
    assert [r["status"] for r in results] == ["applied"] * 5, results
    p1.refresh_from_db()
    p2.refresh_from_db()
    p3.refresh_from_db()
    assert p1.verified_on == timezone.localdate() and p1.version == 1  # confirming moves no version
    assert p2.occupation == "渔民" and p2.version == 2 and p2.verified_on is not None
    assert p3.retired_reason == "moved_away"
    added = Person.objects.dangerously_unscoped().get(name="新生儿")
    assert added.grid_code == MINE
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS
    progress = selectors.progress(actor=who("demo-street"), campaign=c)
    person = progress["records"]["person"]
    total_people = people(LILE).count() + 1  # p3 retired is still on the worklist; one added
    assert person == {
        "total": total_people,
        "verified": 4,
        "confirmed": 1,
        "corrected": 1,
        "added": 1,
        "retired": 1,
        "conflict": 0,
    }
    assert progress["records"]["thing"]["confirmed"] == 1
    assert progress["tasks"] == 7 and progress["by_state"]["in_progress"] == 1
    by_grid = selectors.progress(actor=who("demo-street"), campaign=c, level="community")
    assert [r["code"] for r in by_grid["rows"]] == ["440704003001", "440704003002"]
    assert by_grid["rows"][0]["records"]["person"]["verified"] == 4
    assert by_grid["rows"][1]["records"]["person"]["verified"] == 0
    # Logged by field name, never values; one audit entry for the batch.
    entry = AuditEntry.objects.filter(action="campaign.edits").order_by("-seq")[0]
    assert entry.details["counts"]["confirm.applied"] == 2
    assert "渔民" not in str(entry.details) and "11010519491231002X" not in str(entry.details)
    stored = FieldEdit.objects.dangerously_unscoped().get(op="add")
    assert "11010519491231002X" in stored.values  # readable through the field, encrypted at rest:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute('SELECT "values" FROM campaigns_fieldedit WHERE id = %s', [stored.pk])
        assert "11010519491231002X" not in cur.fetchone()[0]


def test_a_retry_never_applies_twice() -> None:
    c = campaign()
    task = task_of(c)
    p = people(MINE).first()
    one = edit("correct", "person", p.pk, p.version, fields={"occupation": "教师"})
    first = send(who("demo-grid"), task, one)
    again = send(who("demo-grid"), task, one)
    assert first[0]["status"] == again[0]["status"] == "applied"
    p.refresh_from_db()
    assert p.version == 2  # not 3
    assert FieldEdit.objects.dangerously_unscoped().filter(key=one["key"]).count() == 1
    assert (
        LedgerChange.objects.dangerously_unscoped()
        .filter(kind="person", record_id=p.pk, action="update")
        .count()
        == 1
    )


def test_a_stale_edit_becomes_a_conflict_the_reviewer_resolves() -> None:
    c = campaign()
    task = task_of(c)
    p = people(MINE).first()
    seen = p.version
    from wangge.ledger import services as ledger

    ledger.person_update(
        actor=who("demo-community"), person_id=p.pk, version=seen, values={"occupation": "司机"}
    )
    results = send(
        who("demo-grid"), task, edit("correct", "person", p.pk, seen, fields={"occupation": "厨师"})
    )
    assert results[0]["status"] == "conflict" and results[0]["conflict_fields"] == ["occupation"]
    p.refresh_from_db()
    assert p.occupation == "司机"  # not applied silently
    row = TaskRecord.objects.dangerously_unscoped().get(task=task, kind="person", record_id=p.pk)
    assert row.status == RecordStatus.CONFLICT
    shown = selectors.conflicts(actor=who("demo-community"), task=task)
    assert shown[0]["rows"] == [
        {"field": "occupation", "field_value": "厨师", "ledger_value": "司机"}
    ]
    services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.task_approve(actor=who("demo-community"), task_id=task.pk)
    assert exc.value.code == "open_conflicts"
    services.conflict_resolve(actor=who("demo-community"), edit_id=shown[0]["id"], choice="field")
    p.refresh_from_db()
    assert p.occupation == "厨师" and p.version == seen + 2
    row.refresh_from_db()
    assert row.status == RecordStatus.CORRECTED
    services.task_approve(actor=who("demo-community"), task_id=task.pk)


def test_edits_arriving_out_of_order_are_applied_in_the_order_made() -> None:
    c = campaign()
    task = task_of(c)
    p = people(MINE).first()
    first = edit("correct", "person", p.pk, 1, fields={"occupation": "一"})
    second = edit("correct", "person", p.pk, 2, fields={"occupation": "二"})
    held = send(who("demo-grid"), task, second)
    assert held[0]["status"] == "held"
    p.refresh_from_db()
    assert p.occupation != "二"
    done = send(who("demo-grid"), task, first)
    assert done[0]["status"] == "applied"
    p.refresh_from_db()
    assert (p.occupation, p.version) == ("二", 3)
    assert (
        FieldEdit.objects.dangerously_unscoped().get(key=second["key"]).status == EditStatus.APPLIED
    )


def test_bad_values_are_refused_with_the_usual_messages_and_nothing_else_changes() -> None:
    c = campaign()
    task = task_of(c)
    p = people(MINE).first()
    other = Person.objects.dangerously_unscoped().filter(grid_code="440704001001001").first()
    results = send(
        who("demo-grid"),
        task,
        edit("correct", "person", p.pk, p.version, fields={"id_number": "110105194912310021"}),
        edit("confirm", "person", other.pk, other.version),
        edit("confirm", "person", p.pk, p.version),
    )
    assert results[0]["status"] == "rejected" and results[0]["errors"][0]["field"] == "id_number"
    assert results[1] == {**results[1], "status": "rejected", "code": "not_in_task"}
    assert results[2]["status"] == "applied"
    assert (
        edits.apply_edits(actor=who("demo-grid"), task_id=task.pk, edits=[{"op": "x"}])["results"][
            0
        ]["code"]
        == "key_required"
    )


def test_the_collector_never_approves_their_own_work_and_levels_keep_their_order() -> None:
    c = campaign(actor=who("demo-street"), spot_check_rate=1.0)
    task = task_of(c)
    p = people(MINE).first()
    # The community officer collects in this grid themselves…
    send(who("demo-community"), task, edit("confirm", "person", p.pk, p.version))
    services.task_submit(actor=who("demo-community"), task_id=task.pk)
    with pytest.raises(PermissionDenied) as exc:
        services.task_approve(actor=who("demo-community"), task_id=task.pk)
    assert exc.value.code == "not_reviewer"
    # … so another community-level reviewer approves; the street spot-checks after.
    second = user_with((Role.COMMUNITY_OFFICER, YINGNAN))
    with pytest.raises(PermissionDenied):  # a grid leader is no reviewer
        services.task_approve(actor=who("demo-grid"), task_id=task.pk)
    services.task_approve(actor=scope_for(second), task_id=task.pk)
    task.refresh_from_db()
    assert task.state == TaskState.REVIEWED and task.spot_check
    with pytest.raises(PermissionDenied):  # the spot check is the street's
        services.task_approve(actor=who("demo-community"), task_id=task.pk)
    services.task_approve(actor=who("demo-street"), task_id=task.pk)
    task.refresh_from_db()
    assert task.state == TaskState.APPROVED
    actions = list(
        TaskAction.objects.dangerously_unscoped()
        .filter(task=task)
        .values_list("action", "to_state")
    )
    assert actions == [
        ("start", "in_progress"),
        ("submit", "submitted"),
        ("approve", "reviewed"),
        ("spot_check", "approved"),
    ]


def test_return_with_a_reason_then_in_progress_again() -> None:
    c = campaign()
    task = task_of(c)
    services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    with pytest.raises(ValidationFailed):
        services.task_return(actor=who("demo-community"), task_id=task.pk, reason=" ")
    services.task_return(actor=who("demo-community"), task_id=task.pk, reason="英南村3号楼漏登两户")
    task.refresh_from_db()
    assert task.state == TaskState.RETURNED and task.returned_reason == "英南村3号楼漏登两户"
    mine = selectors.my_tasks(actor=who("demo-grid"))
    assert [t.task.returned_reason for t in mine] == ["英南村3号楼漏登两户"]
    p = people(MINE).first()
    send(who("demo-grid"), task, edit("confirm", "person", p.pk, p.version))
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS and task.returns == 1
    with pytest.raises(ValidationFailed):  # approving what is not submitted
        services.task_approve(actor=who("demo-community"), task_id=task.pk)


def test_a_helper_from_outside_works_the_task_only_inside_the_window() -> None:
    secretary = user_with()  # 驻村第一书记: no grant at all
    c = campaign()
    task = task_of(c)
    with pytest.raises(NotFound):
        selectors.task_package(actor=scope_for(secretary), task_id=task.pk)
    services.task_assign(actor=who("demo-community"), task_id=task.pk, username=secretary.username)
    package = selectors.task_package(
        actor=scope_for(User.objects.get(pk=secretary.pk)), task_id=task.pk
    )
    ids = {r["id"] for r in package["records"] if r["kind"] == "person"}
    assert ids == set(people(MINE).values_list("id", flat=True))
    p = people(MINE).first()
    assert (
        send(
            scope_for(User.objects.get(pk=secretary.pk)),
            task,
            edit("confirm", "person", p.pk, p.version),
        )[0]["status"]
        == "applied"
    )
    # The helper sees nothing of the ledger outside the task.
    from wangge.ledger.selectors import person_list

    with pytest.raises(NotFound):
        list(person_list(actor=scope_for(User.objects.get(pk=secretary.pk))))
    # After the window, the task is closed to them.
    from wangge.campaigns.models import Campaign

    Campaign.objects.dangerously_unscoped().filter(pk=c.pk).update(
        end=timezone.localdate() - dt.timedelta(days=1)
    )
    with pytest.raises(PermissionDenied):
        selectors.task_package(actor=scope_for(User.objects.get(pk=secretary.pk)), task_id=task.pk)


def test_the_package_holds_only_the_task_and_masks_personal_fields() -> None:
    c = campaign()
    package = selectors.task_package(actor=who("demo-grid"), task_id=task_of(c).pk)
    grids = {
        Person.objects.dangerously_unscoped().get(pk=r["id"]).grid_code
        for r in package["records"]
        if r["kind"] == "person"
    }
    assert grids == {MINE}
    person = next(r for r in package["records"] if r["kind"] == "person")
    stored = Person.objects.dangerously_unscoped().get(pk=person["id"])
    text = str(package)
    assert stored.id_number not in text and stored.phone not in text
    assert person["masked"]["id_number"] == stored.id_number[:6] + "*" * 12
    assert person["values"]["id_number"] is None and person["version"] == stored.version
    with pytest.raises(NotFound):  # another street's worker never gets it
        selectors.task_package(
            actor=scope_for(user_with((Role.GRID_WORKER, "440704001001001"))), task_id=task_of(c).pk
        )


def test_an_open_task_is_held_with_a_visible_expiry_and_released_by_the_scan() -> None:
    c = campaign(team_assigned=False)
    task = task_of(c)
    with pytest.raises(PermissionDenied):
        selectors.task_package(actor=who("demo-grid"), task_id=task.pk)
    held = services.task_take(actor=who("demo-grid"), task_id=task.pk)
    assert held.held_until is not None
    assert held.held_until - timezone.now() > dt.timedelta(hours=7, minutes=59)
    other = user_with((Role.GRID_WORKER, MINE))
    with pytest.raises(Conflict):
        services.task_take(actor=scope_for(other), task_id=task.pk)
    assert selectors.task_package(actor=who("demo-grid"), task_id=task.pk)["task"]["held_until"]
    result = scan.scan(now=timezone.now() + dt.timedelta(hours=9))
    assert result["holds_expired"] == 1
    task.refresh_from_db()
    assert task.held_by_id is None
    assert TaskAction.objects.dangerously_unscoped().filter(task=task, action="expire").count() == 1
    assert AuditEntry.objects.filter(action="campaign.task.expire", object_id=str(task.pk)).exists()


def test_overdue_tasks_notify_the_responsible_once() -> None:
    from wangge.campaigns.models import Campaign
    from wangge.events.models import Notification

    c = campaign()
    task = task_of(c)
    TaskAssignee.objects.create(
        task=task, user=User.objects.get(username="demo-grid"), role="responsible"
    )
    Campaign.objects.dangerously_unscoped().filter(pk=c.pk).update(
        end=timezone.localdate() - dt.timedelta(days=1)
    )
    first = scan.scan()
    second = scan.scan()
    assert first["overdue_notified"] == 7 and second["overdue_notified"] == 0
    notes = Notification.objects.dangerously_unscoped().filter(
        user__username="demo-grid", kind="campaign_overdue"
    )
    assert notes.count() == 1 and notes[0].link == f"/campaigns/tasks/{task.pk}/"


def test_quality_before_and_after() -> None:
    c = campaign(regions=[MINE])
    task = task_of(c)
    before = {r["kind"]: r for r in selectors.quality_report(actor=who("demo-grid"), campaign=c)}
    n = people(MINE).count()
    assert (
        before["person"]["before"]["total"] == n
        and before["person"]["before"]["never_verified"] == n
    )
    confirms = [edit("confirm", "person", p.pk, p.version) for p in people(MINE)]
    send(who("demo-grid"), task, *confirms)
    after = {r["kind"]: r for r in selectors.quality_report(actor=who("demo-grid"), campaign=c)}
    assert after["person"]["before"]["never_verified"] == n  # the snapshot stays
    assert after["person"]["now"]["never_verified"] == 0


def test_the_epidemic_list_and_a_visit_campaign_over_exactly_those_households() -> None:
    from wangge.ledger.tests.factories import HouseholdFactory, PersonFactory

    today = timezone.localdate()
    home = HouseholdFactory.create(grid_code=MINE, code="H-EPI-1")
    old = PersonFactory.create(
        grid_code=MINE, household=home, id_number="", birth_date=dt.date(today.year - 85, 1, 1)
    )
    listed = selectors.priority_list(
        actor=who("demo-community"), regions=[YINGNAN], reasons=["aged_80", "alone"]
    )
    mine = next(g for g in listed["grids"] if g["code"] == MINE)
    reasons = {p.person_id: p.reasons for p in mine["people"]}
    assert "aged_80" in reasons[old.pk]
    alone = people(MINE).filter(care_tags__contains="elderly_alone").values_list("id", flat=True)
    assert all("alone" in reasons[pk] for pk in alone)
    c = campaign(
        actor=who("demo-community"),
        regions=[YINGNAN],
        template="visit",
        criteria={"reasons": ["aged_80", "alone"]},
    )
    households = set(
        TaskRecord.objects.dangerously_unscoped()
        .filter(campaign_id_copy=c.pk, kind="household")
        .values_list("record_id", flat=True)
    )
    expected = {p.household_id for g in listed["grids"] for p in g["people"] if p.household_id}
    assert households == expected and home.pk in households
    task = task_of(c)
    results = send(
        who("demo-grid"),
        task,
        edit("visit", "household", home.pk, home.version, outcome="nobody_home"),
    )
    assert results[0]["status"] == "applied"
    assert (
        selectors.progress(actor=who("demo-community"), campaign=c)["households"]["nobody_home"]
        == 1
    )
