"""The progress workbook and the visit sheet: scoped, exact, masked, audited."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation
from openpyxl import load_workbook

from wangge.campaigns import edits, exports
from wangge.campaigns.models import TaskState
from wangge.campaigns.tests.factories import (
    LILE,
    MINE,
    YINGNAN,
    campaign,
    edit,
    reset_sequences,
    task_of,
)
from wangge.core.errors import NotFound
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.ledger.models import Household, Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sequences() -> None:
    reset_sequences()


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def sheets(data: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def test_the_progress_workbook_has_a_sheet_per_level_in_the_actors_scope() -> None:
    c = campaign(regions=[LILE], kinds=["person", "household"])
    mine = Person.objects.dangerously_unscoped().filter(grid_code=MINE, retired_on=None)
    first, second = mine.order_by("id")[:2]
    edits.apply_edits(
        actor=who("demo-grid"),
        task_id=task_of(c).pk,
        edits=[
            edit("confirm", "person", first.pk, first.version),
            edit("correct", "person", second.pk, second.version, fields={"occupation": "渔民"}),
        ],
    )
    with translation.override("zh-hans"):
        data = exports.progress_workbook(actor=who("demo-community"), campaign=c)
        in_progress = str(TaskState.IN_PROGRESS.label)
    book = sheets(data)
    assert list(book) == ["街道", "村（社区）", "网格", "人员"]
    street = book["街道"]
    assert street[0][:3] == ["名称", "编码", "任务数"]  # names before codes
    assert len(street) == 2 and street[1][:2] == ["礼乐街道", LILE]
    # demo-community sees 英南村's 5 grids only, not 南村's 2.
    assert street[1][2] == 5
    grids = book["网格"]
    assert [row[1] for row in grids[1:]] == [f"{YINGNAN}00{n}" for n in range(1, 6)]
    headers = grids[0]
    people_total = headers.index("实有人口：总数")
    row = grids[1]
    assert row[people_total] == mine.count()
    assert row[people_total + 1] == 2  # verified
    assert row[people_total + 2] == 1  # corrected
    assert row[headers.index(in_progress)] == 1
    assert [r[1] for r in book["村（社区）"][1:]] == [YINGNAN]
    people = book["人员"]
    assert people[0][:3] == ["人员", "核查记录数", "提交编辑数"]
    assert people[1][:3] == [str(User.objects.get(username="demo-grid")), 2, 2]
    entry = AuditEntry.objects.filter(action="campaign.progress_export").latest("seq")
    assert entry.object_id == str(c.pk) and entry.actor_name == "demo-community"


def test_the_workbook_writes_formula_like_names_as_text() -> None:
    c = campaign(regions=[YINGNAN])
    User.objects.filter(username="demo-grid").update(display_name="=HYPERLINK(1)")
    p = Person.objects.dangerously_unscoped().filter(grid_code=MINE).first()
    edits.apply_edits(
        actor=who("demo-grid"),
        task_id=task_of(c).pk,
        edits=[edit("confirm", "person", p.pk, p.version)],
    )
    book = load_workbook(
        io.BytesIO(exports.progress_workbook(actor=who("demo-street"), campaign=c))
    )
    cell = book.worksheets[3]["A2"]
    assert cell.value == "'=HYPERLINK(1)" and cell.data_type == "s"


def test_out_of_scope_campaigns_are_not_found() -> None:
    elsewhere = campaign(regions=["440704001"])
    with pytest.raises(NotFound):
        exports.progress_workbook(actor=who("demo-community"), campaign=elsewhere)
    with pytest.raises(NotFound):
        exports.progress_workbook(actor=who("demo-community"), campaign=999_999)
    with pytest.raises(NotFound):
        exports.visit_sheet(actor=who("demo-grid"), task=task_of(elsewhere, "440704001001001"))


def test_the_visit_sheet_lists_households_with_address_and_masked_members() -> None:
    c = campaign(regions=[YINGNAN], template="visit")
    task = task_of(c)
    sheet = exports.visit_sheet(actor=who("demo-grid"), task=task)
    assert sheet["task"]["id"] == task.pk and sheet["campaign"]["name"] == c.name
    household = Household.objects.dangerously_unscoped().get(grid_code=MINE)
    members = list(
        Person.objects.dangerously_unscoped()
        .filter(household=household, retired_on=None)
        .order_by("id")
    )
    head = household.head
    assert head is not None and len(members) == 2
    room = household.room
    assert room is not None
    [h] = sheet["households"]  # the person living alone has no household: not on the sheet
    assert h["code"] == household.code
    assert h["place"] == {
        "estate": room.building.estate.name,
        "building": room.building.name,
        "unit": room.unit,
        "room": room.number,
    }
    assert h["address"].startswith(room.building.estate.name) and room.number in h["address"]
    assert h["head"] == head.name
    assert h["members"][0]["name"] == head.name  # the head first
    for m, p in zip(
        h["members"], sorted(members, key=lambda p: (p.pk != head.pk, p.pk)), strict=True
    ):
        assert m["name"] == p.name
        assert m["birth_year"] == (p.birth_date.year if p.birth_date else None)
        assert m["relation"] == p.relation
        assert m["gender"] == {"male": "男", "female": "女"}.get(p.gender, p.gender)
        assert m["id_masked"] == p.id_number[:6] + "*" * 12
        assert p.id_number not in str(sheet)
        assert str(p.birth_date) not in str(sheet)
    entry = AuditEntry.objects.filter(action="campaign.visit_sheet").latest("seq")
    assert entry.object_id == str(task.pk) and entry.details == {"households": 1, "people": 2}


def test_a_retired_member_is_not_on_the_visit_sheet() -> None:
    c = campaign(regions=[YINGNAN], template="visit")
    household = Household.objects.dangerously_unscoped().get(grid_code=MINE)
    spouse = (
        Person.objects.dangerously_unscoped()
        .filter(household=household)
        .exclude(pk=household.head_id)
        .get()
    )
    edits.apply_edits(
        actor=who("demo-grid"),
        task_id=task_of(c).pk,
        edits=[edit("retire", "person", spouse.pk, spouse.version, reason="moved_away")],
    )
    [h] = exports.visit_sheet(actor=who("demo-community"), task=task_of(c))["households"]
    assert [m["name"] for m in h["members"]] == [household.head.name]
