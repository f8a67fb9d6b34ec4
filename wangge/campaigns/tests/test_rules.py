"""Campaign rules beyond the main path: splitting a grid, renewing a hold, edits of a record
added in the same batch, reused sequence numbers, findings becoming events, conflicts kept
on the ledger's side, closing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from wangge.campaigns import edits, selectors, services
from wangge.campaigns.models import EditStatus, FieldEdit, RecordStatus, Task, TaskRecord, TaskState
from wangge.campaigns.tests.factories import MINE, campaign, edit, reset_sequences, task_of
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.ledger.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def send(actor: Scope, task: Task, *items: dict) -> list[dict]:
    return edits.apply_edits(actor=actor, task_id=task.pk, edits=list(items))["results"]


def mine() -> list[Person]:
    return list(Person.objects.dangerously_unscoped().filter(grid_code=MINE).order_by("id"))


def test_a_large_grid_splits_by_building() -> None:
    from wangge.ledger.models import Building
    from wangge.ledger.tests.factories import BuildingFactory, PersonFactory, RoomFactory

    first = Building.objects.dangerously_unscoped().filter(grid_code=MINE).get()
    second = BuildingFactory.create(estate=first.estate, code="002", lon=first.lon, lat=first.lat)
    room = RoomFactory.create(building=second, number="201")
    PersonFactory.create(grid_code=MINE, room=room)
    c = campaign(regions=[MINE])
    task = task_of(c)
    with pytest.raises(PermissionDenied):  # a grid leader may not split
        services.task_split(actor=who("demo-grid"), task_id=task.pk)
    parts = services.task_split(actor=who("demo-community"), task_id=task.pk)
    assert len(parts) == 2
    assert sorted(p.building_id or 0 for p in parts) == sorted([first.pk, second.pk])
    on_parts = TaskRecord.objects.dangerously_unscoped().filter(task__in=parts).count()
    left = TaskRecord.objects.dangerously_unscoped().filter(task=task).count()
    total = TaskRecord.objects.dangerously_unscoped().filter(campaign_id_copy=c.pk).count()
    assert on_parts + left == total and left > 0  # things and organisations without a room
    with pytest.raises(ValidationFailed):  # not twice
        services.task_split(actor=who("demo-community"), task_id=task.pk)
    # Progress counts the parts, not the grid's task as well.
    assert selectors.progress(actor=who("demo-community"), campaign=c)["tasks"] == 2


def test_taking_again_renews_the_hold() -> None:
    c = campaign(team_assigned=False)
    task = task_of(c)
    first = services.task_take(actor=who("demo-grid"), task_id=task.pk).held_until
    again = services.task_take(actor=who("demo-grid"), task_id=task.pk)
    assert again.held_until is not None and first is not None and again.held_until >= first
    actions = list(
        task.actions.model.objects.dangerously_unscoped()
        .filter(task=task)
        .values_list("action", flat=True)
    )
    assert actions == ["take", "renew"]
    services.task_release(actor=who("demo-grid"), task_id=task.pk)
    task.refresh_from_db()
    assert task.held_by_id is None


def test_a_record_added_offline_can_be_corrected_in_the_same_batch_by_its_ref() -> None:
    c = campaign(regions=[MINE])
    task = task_of(c)
    results = send(
        who("demo-grid"),
        task,
        {
            **edit("add", "person", fields={"name": "李新", "id_number": "11010519491231002X"}),
            "ref": "tmp-1",
        },
        {**edit("correct", "person", None, 1, fields={"occupation": "店员"}), "ref": "tmp-1"},
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    added = Person.objects.dangerously_unscoped().get(name="李新")
    assert added.occupation == "店员" and added.version == 2
    row = TaskRecord.objects.dangerously_unscoped().get(
        task=task, kind="person", record_id=added.pk
    )
    assert row.status == RecordStatus.ADDED


def test_a_sequence_number_cannot_be_used_twice() -> None:
    c = campaign(regions=[MINE])
    task = task_of(c)
    p1, p2 = mine()[:2]
    one = edit("confirm", "person", p1.pk, p1.version)
    send(who("demo-grid"), task, one)
    twin = {**edit("confirm", "person", p2.pk, p2.version), "seq": one["seq"]}
    result = send(who("demo-grid"), task, twin)[0]
    assert result["status"] == "rejected" and result["code"] == "seq_reused"
    p2.refresh_from_db()
    assert p2.verified_on is None


def test_held_edits_block_submitting_until_their_predecessor_arrives() -> None:
    c = campaign(regions=[MINE])
    task = task_of(c)
    p = mine()[0]
    edit("confirm", "person", p.pk, p.version)  # seq 1 never sent
    late = edit("confirm", "person", p.pk, p.version)  # seq 2
    assert send(who("demo-grid"), task, late)[0]["status"] == "held"
    with pytest.raises(ValidationFailed) as exc:
        services.task_submit(actor=who("demo-grid"), task_id=task.pk)
    assert exc.value.code == "edits_held"


def test_keeping_the_ledger_value_confirms_the_record_as_it_is() -> None:
    from wangge.ledger import services as ledger

    c = campaign(regions=[MINE])
    task = task_of(c)
    p = mine()[0]
    ledger.person_update(
        actor=who("demo-community"), person_id=p.pk, version=1, values={"occupation": "农民"}
    )
    send(who("demo-grid"), task, edit("correct", "person", p.pk, 1, fields={"occupation": "工人"}))
    conflict = FieldEdit.objects.dangerously_unscoped().get(task=task, status=EditStatus.CONFLICT)
    with pytest.raises(PermissionDenied):  # the collector does not decide their own conflict
        services.conflict_resolve(actor=who("demo-grid"), edit_id=conflict.pk, choice="server")
    services.conflict_resolve(actor=who("demo-community"), edit_id=conflict.pk, choice="server")
    p.refresh_from_db()
    assert p.occupation == "农民" and p.version == 2
    row = TaskRecord.objects.dangerously_unscoped().get(task=task, kind="person", record_id=p.pk)
    assert (row.status, row.checked_version) == (RecordStatus.CONFIRMED, 2)


def test_a_hazard_finding_becomes_an_event_once() -> None:
    from wangge.events.models import Event
    from wangge.regions.selectors import interior_point_unscoped

    c = campaign(regions=[MINE], template="hazard")
    task = task_of(c)
    lon, lat = interior_point_unscoped(MINE)
    finding = edit(
        "finding",
        "organisation",
        None,
        None,
        category="0701",
        title="仓库堵塞消防通道",
        lon=lon,
        lat=lat,
    )
    first = send(who("demo-grid"), task, finding)[0]
    again = send(who("demo-grid"), task, finding)[0]
    assert first["status"] == "applied" and first["event_id"]
    assert again["status"] == "applied"
    assert Event.objects.dangerously_unscoped().filter(title="仓库堵塞消防通道").count() == 1


def test_a_closed_campaign_takes_no_edits_and_a_worker_cannot_close_it() -> None:
    c = campaign(regions=[MINE])
    task = task_of(c)
    with pytest.raises(PermissionDenied):  # the grid leader sees it but does not manage it
        services.campaign_close(actor=who("demo-grid"), campaign_id=c.pk)
    services.campaign_close(actor=who("demo-community"), campaign_id=c.pk)
    p = mine()[0]
    with pytest.raises(PermissionDenied):
        send(who("demo-grid"), task, edit("confirm", "person", p.pk, p.version))
    assert task_of(c).state == TaskState.ASSIGNED
    assert timezone.localdate() <= c.end


def test_a_finding_carries_its_photo_to_the_event_and_a_bad_one_is_refused() -> None:
    import base64

    from wangge.events.models import Event, EventPhoto
    from wangge.events.tests.conftest import tiny_png
    from wangge.regions.selectors import interior_point_unscoped

    photo = base64.b64encode(tiny_png()).decode()
    c = campaign(regions=[MINE], template="hazard")
    task = task_of(c)
    lon, lat = interior_point_unscoped(MINE)
    good = edit(
        "finding",
        "thing",
        None,
        None,
        category="0701",
        title="消防栓损坏",
        lon=lon,
        lat=lat,
        photos=[photo],
    )
    bad = edit(
        "finding",
        "thing",
        None,
        None,
        category="0701",
        title="坏图",
        lon=lon,
        lat=lat,
        photos=["%%%"],
    )
    results = send(who("demo-grid"), task, good, bad)
    assert results[0]["status"] == "applied" and results[1]["code"] == "invalid_photo"
    event = Event.objects.dangerously_unscoped().get(title="消防栓损坏")
    assert EventPhoto.objects.dangerously_unscoped().filter(event=event).count() == 1
    assert not Event.objects.dangerously_unscoped().filter(title="坏图").exists()
