"""What leaves a campaign on paper: the progress workbook (one sheet per level: streets,
communities, grids, people) and the data of the printable visit sheet (入户走访登记表) of one
task. Both read through the selectors (out of scope is NotFound) and both are audited, like
the other exports: what left the system, for whom."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import pgettext, pgettext_lazy

from wangge.campaigns import selectors
from wangge.campaigns.models import Campaign, EditOp, Kind, Outcome, TaskRecord, TaskState
from wangge.core.audit import audit_record
from wangge.core.personal import birth_year, mask_id_number
from wangge.core.scope import as_scope
from wangge.core.tabular import write_xlsx
from wangge.ledger.columns import GENDER_LABELS
from wangge.ledger.models import Household, Person

# The region sheets, in order: (the selector's level, the sheet's title).
# The workbook's titles and headers are translated in the context "progress workbook".
LEVEL_SHEETS = [
    ("street", pgettext_lazy("progress workbook", "Streets")),
    ("community", pgettext_lazy("progress workbook", "Villages and communities")),
    ("grid", pgettext_lazy("progress workbook", "Grids")),
]
RECORD_COLUMNS = [
    ("total", pgettext_lazy("progress workbook", "total")),
    ("verified", pgettext_lazy("progress workbook", "verified")),
    ("corrected", pgettext_lazy("progress workbook", "corrected")),
    ("added", pgettext_lazy("progress workbook", "added")),
    ("retired", pgettext_lazy("progress workbook", "retired")),
]
PERSON_OPS = [EditOp.CONFIRM, EditOp.CORRECT, EditOp.RETIRE, EditOp.ADD, EditOp.VISIT]


def _campaign(actor: Any, campaign: Campaign | int | str) -> Campaign:
    if isinstance(campaign, Campaign):
        return selectors.campaign_get(actor=actor, campaign_id=campaign.pk)
    return selectors.campaign_get(actor=actor, campaign_id=campaign)


def _rate(done: int, total: int) -> str:
    return f"{done / total:.1%}" if total else ""


def _region_sheet(
    campaign: Campaign, title: str, rows: list[dict[str, Any]]
) -> tuple[str, list[str], list[list[Any]]]:
    kinds = [k for k in campaign.kinds if k in Kind.values]
    labels = dict(Kind.choices)
    headers = [
        pgettext("progress workbook", "Name"),
        pgettext("progress workbook", "Code"),
        pgettext("progress workbook", "Tasks"),
    ]
    headers += [str(label) for label in TaskState.labels]
    share = pgettext("progress workbook", "verified share")
    for kind in kinds:
        headers += [f"{labels[kind]}：{label}" for _key, label in RECORD_COLUMNS]
        headers.append(f"{labels[kind]}：{share}")
    visits = bool(campaign.spec.get("visits")) or Kind.HOUSEHOLD in kinds
    if visits:
        households = pgettext("progress workbook", "Households")
        headers += [f"{households}：{label}" for label in Outcome.labels]
    headers.append(pgettext("progress workbook", "Open conflicts"))
    out = []
    for row in rows:
        cells: list[Any] = [row["name"], row["code"], row["tasks"]]
        cells += [row["by_state"].get(state, 0) for state in TaskState.values]
        for kind in kinds:
            counts = row["records"].get(kind) or {}
            cells += [counts.get(key, 0) for key, _label in RECORD_COLUMNS]
            cells.append(_rate(counts.get("verified", 0), counts.get("total", 0)))
        if visits:
            cells += [row["households"].get(o, 0) for o in Outcome.values]
        cells.append(row["conflicts"])
        out.append(cells)
    return title, headers, out


def _people_sheet(rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[Any]]]:
    labels = dict(EditOp.choices)
    headers = [
        pgettext("progress workbook", "Person"),
        pgettext("progress workbook", "Records checked"),
        pgettext("progress workbook", "Edits sent"),
    ]
    headers += [str(labels[op]) for op in PERSON_OPS]
    out = [
        [
            row["user"],
            row["checked"],
            row["edits"],
            *[row["by_op"].get(op, 0) for op in PERSON_OPS],
        ]
        for row in rows
    ]
    return pgettext("progress workbook", "People"), headers, out


def progress_workbook(*, actor: Any, campaign: Campaign | int | str) -> bytes:
    """The progress workbook of a campaign over what the actor sees: one sheet per street,
    community and grid (names before codes, tasks by state, per kind records total /
    verified / corrected / added / retired and the verified share, households by visit
    outcome, open conflicts) and one per person (records checked, edits by kind). Audited."""
    scope = as_scope(actor)
    c = _campaign(scope, campaign)
    sheets = []
    with transaction.atomic():
        for level, title in LEVEL_SHEETS:
            data = selectors.progress(actor=scope, campaign=c, level=level)
            sheets.append(_region_sheet(c, str(title), data["rows"]))
        sheets.append(_people_sheet(selectors.progress_by_person(actor=scope, campaign=c)))
        audit_record(
            actor=scope,
            action="campaign.progress_export",
            object_type="campaign",
            object_id=c.pk,
            details={"sheets": [s[0] for s in sheets], "rows": [len(s[2]) for s in sheets]},
        )
    return write_xlsx(sheets)


def _place(household: Household) -> dict[str, Any]:
    room = household.room
    if room is None:
        return {"estate": "", "building": "", "unit": None, "room": ""}
    building = room.building
    return {
        "estate": building.estate.name,
        "building": building.name,
        "unit": room.unit,
        "room": room.number,
    }


def _address(place: dict[str, Any]) -> str:
    if not place["estate"]:
        return ""
    return f"{place['estate']}{place['building']}{place['unit']}单元{place['room']}"


def _head_first(person: Person) -> tuple[int, int]:
    head = person.household.head_id if person.household else None
    return (0 if person.pk == head or person.relation == "户主" else 1, person.pk)


def visit_sheet(*, actor: Any, task: Any) -> dict[str, Any]:
    """The data of the printable 入户走访登记表 of one task the actor sees: its households
    (those on the worklist, and those of the people on it), in worklist order, each with its
    address and its current members — name, gender, birth year (never the date), relation to
    the head and the ID number masked as the ledger masks it. The template adds blank columns
    for the outcome and the signature. Audited (names leave the system on paper).

    {"task": {...}, "campaign": {...}, "households": [{"code", "address" (one line),
    "place": {"estate", "building", "unit", "room"}, "head" (the head's name), "members":
    [{"name", "gender", "birth_year", "relation", "id_masked"}]}]}"""
    scope = as_scope(actor)
    t = selectors.task_get(actor=scope, task_id=getattr(task, "pk", task))
    # Unscoped below: the task was fetched in scope, and only its own records are read.
    rows = list(
        TaskRecord.objects.dangerously_unscoped()
        .filter(task=t, kind__in=[Kind.HOUSEHOLD, Kind.PERSON])
        .order_by("sort_key", "id")
        .values_list("kind", "record_id", "sort_key")
    )
    order: dict[int, str] = {}
    for kind, record_id, sort_key in rows:
        if kind == Kind.HOUSEHOLD:
            order.setdefault(record_id, sort_key)
    person_keys = {record_id: key for kind, record_id, key in rows if kind == Kind.PERSON}
    for household_id, person_id in (
        Person.objects.dangerously_unscoped()
        .filter(pk__in=list(person_keys))
        .exclude(household_id=None)
        .values_list("household_id", "pk")
    ):
        order[household_id] = min(order.get(household_id, "~"), person_keys[person_id])
    households = {
        h.pk: h
        for h in Household.objects.dangerously_unscoped()
        .filter(pk__in=list(order), retired_on=None)
        .select_related("room__building__estate")
    }
    members: dict[int, list[Person]] = {}
    for p in (
        Person.objects.dangerously_unscoped()
        .filter(household_id__in=list(households), retired_on=None)
        .select_related("household")
    ):
        members.setdefault(p.household_id or 0, []).append(p)
    out = []
    for pk in sorted(households, key=lambda pk: (order[pk], households[pk].code)):
        h = households[pk]
        place = _place(h)
        family = sorted(members.get(pk, []), key=_head_first)
        head = next((p.name for p in family if p.pk == h.head_id), "")
        out.append(
            {
                "code": h.code,
                "address": _address(place),
                "place": place,
                "head": head,
                "members": [
                    {
                        "name": p.name,
                        "gender": GENDER_LABELS.get(p.gender, p.gender),
                        "birth_year": birth_year(p.birth_date),
                        "relation": p.relation,
                        "id_masked": mask_id_number(p.id_number) if p.id_number else "",
                    }
                    for p in family
                ],
            }
        )
    campaign = t.campaign
    audit_record(
        actor=scope,
        action="campaign.visit_sheet",
        object_type="campaign_task",
        object_id=t.pk,
        details={
            "households": len(out),
            "people": sum(len(h["members"]) for h in out),
        },
    )
    return {
        "task": {"id": t.pk, "title": t.title, "grid_code": t.grid_code, "state": t.state},
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "start": campaign.start,
            "end": campaign.end,
        },
        "households": out,
    }
