"""The task package: what a phone downloads to work a task without signal.

Only the task's records (not the grid's, not the district's), as one JSON document ordered
estate → building → unit → room → household → person, then organisations and things. Each
record has its id, its version (what an edit names), its status on the task, a title and a
line under it, and the values of the fields the campaign verifies — personal ones masked as
on the worker's pages (the region of the ID number only, the birth year, 138****1234), so the
phone never holds more than its user may see. Corrections of masked fields are typed anew.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from wangge.campaigns.models import Outcome, RecordStatus, Task, TaskRecord
from wangge.campaigns.selection import MODELS
from wangge.core.personal import birth_year, mask_id_number, mask_phone
from wangge.ledger import fields as ledger_fields
from wangge.ledger.columns import GENDER_LABELS
from wangge.ledger.models import RetireReason
from wangge.ledger.services.people import PERSON_RETIRE_REASONS
from wangge.ledger.services.places import RETIRE_REASONS

# Fields whose value never travels to the phone: shown masked, typed anew to correct.
MASKED = {"id_number", "phone", "birth_date"}
_RELATED = {
    "person": ("household", "room__building__estate"),
    "household": ("room__building__estate", "head"),
    "room": ("building__estate",),
    "organisation": ("room",),
    "thing": (),
}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _field_value(kind: str, record: Any, f: ledger_fields.Field) -> Any:
    if f.key in MASKED:
        return None
    if f.widget == "tags":
        raw = getattr(record, f.attr, "") or ""
        return [t for t in raw.split(",") if t] if isinstance(raw, str) else list(raw)
    return _plain(getattr(record, f.attr, None))


def _describe(kind: str, record: Any, today: Any) -> tuple[str, str, dict[str, Any]]:
    if kind == "person":
        masked = {
            "id_number": mask_id_number(record.id_number) if record.id_number else "",
            "phone": mask_phone(record.phone) if record.phone else "",
            "birth_year": birth_year(record.birth_date),
        }
        sub = " ".join(
            str(x)
            for x in (
                GENDER_LABELS.get(record.gender, record.gender),
                masked["birth_year"] and f"{masked['birth_year']}年",
                record.relation,
            )
            if x
        )
        return record.name, sub, masked
    if kind == "household":
        head = record.head.name if record.head_id and record.head else ""
        return f"户 {record.code}", head, {}
    if kind == "room":
        return str(record), record.get_use_display(), {}
    if kind == "organisation":
        return (
            record.name,
            record.address,
            {"phone": mask_phone(record.phone) if record.phone else ""},
        )
    return record.name, record.code, {}


def _place(kind: str, record: Any) -> dict[str, Any]:
    room = record if kind == "room" else getattr(record, "room", None)
    if kind == "person" and room is None and record.household_id and record.household:
        room = record.household.room
    if room is None:
        return {}
    building = room.building
    return {
        "estate": building.estate.name,
        "building": building.name,
        "unit": room.unit,
        "room": room.number,
        "room_code": room.code,
    }


def spec_fields(kind: str, spec: dict[str, Any]) -> list[ledger_fields.Field]:
    if kind not in ledger_fields.RECORDS:
        return []
    wanted = spec.get("fields", {}).get(kind)
    known = ledger_fields.fields(kind)
    if not wanted:
        return [f for f in known if not f.sensitive]
    return [f for f in known if f.key in wanted and not f.sensitive]


def describe_fields(kind: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": f.key,
            "label": f.label,
            "widget": f.widget,
            "required": f.required,
            "masked": f.key in MASKED,
            "choices": [{"value": k, "label": str(v)} for k, v in f.choices.items()],
        }
        for f in spec_fields(kind, spec)
    ]


def _reasons(kind: str) -> list[dict[str, str]]:
    allowed = PERSON_RETIRE_REASONS if kind == "person" else RETIRE_REASONS.get(kind, set())
    return [{"value": r.value, "label": str(r.label)} for r in RetireReason if r in allowed]


def build(task: Task, scope: Any) -> dict[str, Any]:
    """The package of `task` for an actor who may work it (checked by the selector)."""
    campaign = task.campaign
    spec = campaign.spec
    today = timezone.localdate()
    rows = list(
        TaskRecord.objects.dangerously_unscoped().filter(task=task).order_by("sort_key", "id")
    )
    ids: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        ids[r.kind].append(r.record_id)
    loaded: dict[str, dict[int, Any]] = {}
    for kind, pks in ids.items():
        qs = MODELS[kind].objects.dangerously_unscoped().filter(pk__in=pks)
        related = _RELATED.get(kind, ())
        if related:
            qs = qs.select_related(*related)
        loaded[kind] = {r.pk: r for r in qs}
    fields = {k: spec_fields(k, spec) for k in campaign.kinds}
    records = []
    for r in rows:
        rec = loaded.get(r.kind, {}).get(r.record_id)
        if rec is None:
            continue
        title, sub, masked = _describe(r.kind, rec, today)
        records.append(
            {
                "kind": r.kind,
                "id": rec.pk,
                "version": rec.version,
                "status": r.status,
                "outcome": r.outcome,
                "retired": rec.retired_on is not None,
                "title": title,
                "subtitle": sub,
                "masked": masked,
                "place": _place(r.kind, rec),
                "household": getattr(rec, "household_id", None) if r.kind == "person" else None,
                "values": {f.key: _field_value(r.kind, rec, f) for f in fields.get(r.kind, [])},
            }
        )
    return {
        "task": {
            "id": task.pk,
            "title": task.title,
            "grid_code": task.grid_code,
            "state": task.state,
            "version": task.version,
            "returned_reason": task.returned_reason,
            "held_until": task.held_until.isoformat() if task.held_until else None,
        },
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "start": campaign.start.isoformat(),
            "end": campaign.end.isoformat(),
            "kinds": campaign.kinds,
            "visits": bool(spec.get("visits")),
            "findings": bool(spec.get("findings")),
        },
        "fields": {k: describe_fields(k, spec) for k in campaign.kinds},
        "retire_reasons": {k: _reasons(k) for k in campaign.kinds if k != "household"},
        "outcomes": [{"value": o.value, "label": str(o.label)} for o in Outcome],
        "statuses": [{"value": s.value, "label": str(s.label)} for s in RecordStatus],
        "records": records,
        "built_at": timezone.now().isoformat(),
    }
