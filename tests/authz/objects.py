"""Objects of the test world the authorisation matrix acts on: one inside the main test users'
scope (英南村第1网格, 礼乐街道) and one outside it (江南街道), of every kind a route takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MINE = "440704003001001"  # demo-grid's grid, inside demo-community's and demo-street's scope
OTHER = "440704001001001"  # 江南街道: outside all three


@dataclass(frozen=True)
class Obj:
    value: Any  # what goes into the path (an id or a code)
    marker: str  # text of the object that must not appear in a denial's body


def _first(model: Any, **where: Any) -> Any:
    return model.objects.dangerously_unscoped().filter(**where).order_by("pk").first()


def person(grid: str) -> Obj:
    from wangge.ledger.models import Person

    p = _first(Person, grid_code=grid, household__isnull=False)
    return Obj(p.pk, p.name)


def household(grid: str) -> Obj:
    from wangge.ledger.models import Household

    h = _first(Household, grid_code=grid)
    return Obj(h.pk, h.code)


def organisation(grid: str) -> Obj:
    from wangge.ledger.models import Organisation

    o = _first(Organisation, grid_code=grid)
    return Obj(o.pk, o.credit_code)


def thing(grid: str) -> Obj:
    from wangge.ledger.models import Thing

    t = _first(Thing, grid_code=grid)
    return Obj(t.pk, t.code)


def estate(grid: str) -> Obj:
    from wangge.ledger.models import Estate

    e = _first(Estate, grid_code=grid)
    return Obj(e.pk, e.code)


def building(grid: str) -> Obj:
    from wangge.ledger.models import Building

    b = _first(Building, grid_code=grid)
    return Obj(b.pk, b.code)


def room(grid: str) -> Obj:
    from wangge.ledger.models import Room

    r = _first(Room, grid_code=grid)
    return Obj(r.pk, r.code)


def staff(grid: str) -> Obj:
    from wangge.teams.models import Assignment

    a = _first(Assignment, grid_code=grid, role="part_time", valid_to=None)
    return Obj(a.staff_id, a.staff.name)


def assignment(grid: str) -> Obj:
    from wangge.teams.models import Assignment

    a = _first(Assignment, grid_code=grid, role="part_time", valid_to=None)
    return Obj(a.pk, a.staff.name)


def grid(code: str) -> Obj:
    from wangge.regions.models import Region

    return Obj(code, _first(Region, code=code).name)


def event(grid_code: str) -> Obj:
    from wangge.events.models import Event

    e = _first(Event, grid_code=grid_code, channel="patrol")
    return Obj(e.pk, e.title)


def photo(grid_code: str) -> Obj:
    """A photo of the grid's event (attached through the service as the system)."""
    from wangge.core.scope import Scope
    from wangge.events import services
    from wangge.events.models import Event, EventPhoto
    from wangge.events.tests.conftest import tiny_png

    e = _first(Event, grid_code=grid_code, channel="patrol")
    found = EventPhoto.objects.dangerously_unscoped().filter(event=e).first()
    if found is None:
        found = services.photos_add(
            actor=Scope.system("test"), event=e, files=[tiny_png()], stage="report"
        )[0]
    return Obj((e.pk, found.pk), e.title)


def job(username: str) -> Obj:
    """A job queued by `username` (only its creator sees it)."""
    from wangge.core import jobs
    from wangge.core.models import User

    user = User.objects.get(username=username)
    queued = jobs.job_create(actor_user=user, kind="ledger.import", params={"kind": "people"})
    return Obj(queued.pk, f'"id": {queued.pk}')


def loner(grid: str) -> Obj:
    """A person of the grid who is in no household."""
    from wangge.ledger.models import Person

    p = _first(Person, grid_code=grid, household__isnull=True)
    return Obj(p.pk, p.name)


def own_event(grid_code: str) -> Obj:
    """A patrol report demo-grid made itself in its grid (or the district elsewhere)."""
    from wangge.events.models import Event

    e = _first(Event, grid_code=grid_code, channel="patrol")
    return Obj(e.pk, e.title)


def _campaign_over(grid: str) -> Any:
    """A campaign over the grid alone (made by the service as the system), once per test."""
    import datetime as dt

    from django.utils import timezone

    from wangge.campaigns import services
    from wangge.campaigns.models import Campaign
    from wangge.core.scope import Scope

    name = f"矩阵专项{grid}"
    found = Campaign.objects.dangerously_unscoped().filter(name=name).first()
    if found is not None:
        return found
    today = timezone.localdate()
    return services.campaign_create(
        actor=Scope.system("test"),
        name=name,
        template="basic",
        regions=[grid],
        start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=10),
        spot_check_rate=0.0,
    )


def campaign(grid: str) -> Obj:
    c = _campaign_over(grid)
    return Obj(c.pk, c.name)


def campaign_task(grid: str) -> Obj:
    from wangge.campaigns.models import Task

    c = _campaign_over(grid)
    t = Task.objects.dangerously_unscoped().get(campaign=c, grid_code=grid, parent=None)
    return Obj(t.pk, c.name)


def campaign_confirm(task_id: int) -> dict[str, Any]:
    """A phone's edit confirming the first person of the task's grid."""
    import uuid

    from wangge.campaigns.models import Task
    from wangge.ledger.models import Person

    task = Task.objects.dangerously_unscoped().get(pk=task_id)
    p = _first(Person, grid_code=task.grid_code, retired_on=None)
    return {
        "key": uuid.uuid4().hex,
        "op": "confirm",
        "kind": "person",
        "record_id": p.pk,
        "base_version": p.version,
        "device": "matrix",
        "seq": 1,
    }


def campaign_conflict(grid: str) -> Obj:
    """A conflicting edit on the grid's task: the person changed on the server after the phone
    read it (both made as the system)."""
    from wangge.campaigns import edits
    from wangge.campaigns.models import FieldEdit
    from wangge.core.scope import Scope
    from wangge.ledger import services as ledger
    from wangge.ledger.models import Person

    task = campaign_task(grid)
    found = FieldEdit.objects.dangerously_unscoped().filter(task_id=task.value).first()
    if found is None:
        p = _first(Person, grid_code=grid, retired_on=None)
        system = Scope.system("test")
        edit = campaign_confirm(task.value) | {
            "op": "correct",
            "values": {"fields": {"occupation": "矩阵厨师"}},
        }
        ledger.person_update(
            actor=system, person_id=p.pk, version=p.version, values={"occupation": "矩阵司机"}
        )
        edits.apply_edits(actor=system, task_id=task.value, edits=[edit])
        found = FieldEdit.objects.dangerously_unscoped().get(task_id=task.value)
    return Obj((task.value, found.pk), task.marker)


def campaign_conflict_edit(grid: str) -> Obj:
    """A conflicting field edit on the grid's task: the ledger changed after the phone read it."""
    import uuid

    from django.utils import timezone

    from wangge.campaigns import edits
    from wangge.campaigns.models import FieldEdit, Task
    from wangge.core.scope import Scope
    from wangge.ledger import services as ledger
    from wangge.ledger.models import Person

    system = Scope.system("test")
    task = _first(Task, campaign=_campaign_over(grid), grid_code=grid)
    found = _first(FieldEdit, task=task, status="conflict")
    if found is None:
        p = _first(Person, grid_code=grid, retired_on=None)
        ledger.person_update(
            actor=system, person_id=p.pk, version=p.version, values={"occupation": "矩阵司机"}
        )
        edits.apply_edits(
            actor=system,
            task_id=task.pk,
            edits=[
                {
                    "key": uuid.uuid4().hex,
                    "op": "correct",
                    "kind": "person",
                    "record_id": p.pk,
                    "base_version": p.version,
                    "device": "",
                    "seq": 0,
                    "made_at": timezone.now().isoformat(),
                    "values": {"fields": {"occupation": "矩阵厨师"}},
                }
            ],
        )
        found = _first(FieldEdit, task=task, status="conflict")
    return Obj(found.pk, "矩阵厨师")


def saved_filter(username: str) -> Obj:
    """A saved filter of the events inbox, `username`'s own (only its owner sees it)."""
    from wangge.core import services
    from wangge.core.models import User
    from wangge.core.scope import scope_for

    user = User.objects.get(username=username)
    saved = services.saved_filter_save(
        actor=scope_for(user), list_name="events.inbox", name=f"矩阵{user.pk}", query="box=all"
    )
    return Obj(saved.pk, saved.name)


def _linkage_source() -> Any:
    from wangge.core.scope import Scope
    from wangge.linkage import services
    from wangge.linkage.models import Source

    found = Source.objects.dangerously_unscoped().filter(code="matrix-list").first()
    return found or services.source_save(
        actor=Scope.system("test"), code="matrix-list", kind="people", name="矩阵名单"
    )


def linkage_source(grid: str) -> Obj:
    """A department list (district-wide: no grid of its own)."""
    s = _linkage_source()
    return Obj(s.code, "矩阵名单")


def _linkage_row(grid: str) -> Any:
    """A batch with one row naming the grid's first person, and a pair in the queue against
    that person (written directly: the engine is tested in wangge/linkage)."""
    import json

    from django.utils import timezone

    from wangge.ledger.models import Person
    from wangge.linkage.models import Batch, BatchRow, Pair, RowStatus

    p = _first(Person, grid_code=grid, retired_on=None)
    source = _linkage_source()
    batch = Batch.objects.create(
        source=source,
        region_code=source.region_code,
        filename=f"matrix-{grid}.csv",
        rows=1,
        created_by_name="test",
        created_at=timezone.now(),
    )
    row = BatchRow.objects.create(
        batch=batch,
        row=2,
        values=json.dumps({"name": p.name}, ensure_ascii=False),
        status=RowStatus.REVIEW,
        grid_code=grid,
    )
    pair = Pair.objects.create(
        kind="batch",
        record_kind="people",
        batch_row=row,
        record_id=p.pk,
        probability=0.7,
        weight=1.2,
        evidence=[{"field": "name", "level": "exact", "weight": 8.1}],
        grid_code=grid,
        created_at=timezone.now(),
    )
    return batch, pair, p


def linkage_batch(grid: str) -> Obj:
    batch, _pair, p = _linkage_row(grid)
    return Obj(batch.pk, p.name)


def linkage_pair(grid: str) -> Obj:
    _batch, pair, p = _linkage_row(grid)
    return Obj(pair.pk, p.name)


def merge_pair(grid: str) -> Obj:
    """Two current people of the grid (survivor: a household member; merged: in none)."""
    from wangge.ledger.models import Person

    survivor = _first(Person, grid_code=grid, household__isnull=False, relation="配偶")
    merged = _first(Person, grid_code=grid, household__isnull=True, retired_on__isnull=True)
    return Obj((survivor.pk, merged.pk), merged.name)


def merge(grid: str) -> Obj:
    """A merge of two people of the grid (made by the service as the system)."""
    from wangge.core.scope import Scope
    from wangge.ledger import services

    survivor, merged = merge_pair(grid).value
    made = services.merge_records(
        actor=Scope.system("test"),
        kind="person",
        survivor_id=survivor,
        merged_id=merged,
        reason="矩阵合并",
    )
    return Obj(made.pk, f'"merged_id": {merged}')
