"""The edits a phone sends: confirm, correct, retire, add, a household's visit outcome, a
hazard finding. One batch is one transaction; each edit is applied (or refused) on its own.

- **Idempotent**: every edit carries a key; a key already stored answers with its stored
  result and changes nothing, so a retry after a lost answer never applies an edit twice.
- **In the order made**: edits carry the phone's `device` and a sequence number; an edit
  whose predecessor has not arrived is held (stored, status `held`) and applied when it does.
  Inside a batch, edits are applied in the order they were made on the phone.
- **Versions**: a correction or retirement names the version of the record it started from;
  when the record changed on the server meanwhile it is not applied but kept as a conflict
  (the field values encrypted, the fields changed since), which the reviewer resolves.
- **Fast**: confirmations of records no other edit in the batch touches are verified in one
  call per kind (`ledger.services.records_verify`), so a batch of 500 costs a few queries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.campaigns.models import (
    OPEN_STATES,
    EditOp,
    EditStatus,
    FieldEdit,
    Kind,
    Outcome,
    RecordStatus,
    Task,
    TaskRecord,
    TaskState,
)
from wangge.campaigns.selection import MODELS
from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, ValidationFailed, WanggeError
from wangge.core.scope import Scope
from wangge.ledger import services as ledger

MAX_BATCH = 1000
EDITABLE = {"person", "organisation", "thing", "room"}
ADDABLE = {"person", "organisation", "thing"}


@dataclass
class EditIn:
    key: str
    op: str
    kind: str
    made_at: dt.datetime
    device: str = ""
    seq: int = 0
    record_id: int | None = None
    ref: str = ""
    base_version: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    stored: FieldEdit | None = None  # a held edit read back


@dataclass
class Result:
    key: str
    status: str
    record_id: int | None = None
    version: int | None = None
    code: str = ""
    message: str = ""
    errors: list[Any] = field(default_factory=list)
    conflict_fields: list[str] = field(default_factory=list)
    record_status: str | None = None
    event_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "status": self.status}
        for name in ("record_id", "version", "event_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.code:
            out["code"] = self.code
        if self.message:
            out["message"] = self.message
        if self.errors:
            out["errors"] = self.errors
        if self.conflict_fields:
            out["conflict_fields"] = self.conflict_fields
        return out


def _refuse(key: str, message: str, code: str) -> Result:
    return Result(key=key, status=EditStatus.REJECTED, code=code, message=message)


def _parse(raw: Any, now: dt.datetime) -> EditIn | Result:
    if not isinstance(raw, dict):
        return _refuse("", _("An edit must be an object."), "invalid_edit")
    key = str(raw.get("key") or "").strip()[:120]
    if not key:
        return _refuse("", _("Every edit needs its key."), "key_required")
    op, kind = str(raw.get("op") or ""), str(raw.get("kind") or "")
    if op not in EditOp.values:
        return _refuse(key, _("Unknown kind of edit."), "invalid_op")
    if kind not in Kind.values:
        return _refuse(key, _("Unknown kind of record."), "invalid_kind")
    made = raw.get("made_at")
    try:
        made_at = dt.datetime.fromisoformat(str(made)) if made else now
    except ValueError:
        return _refuse(key, _("The time the edit was made is not a valid time."), "invalid_time")
    if timezone.is_naive(made_at):
        made_at = timezone.make_aware(made_at, dt.UTC)
    made_at = min(made_at, now)  # a phone's clock ahead of ours does not reorder the future
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        return _refuse(key, _("The values of an edit must be an object."), "invalid_values")
    try:
        record_id = int(raw["record_id"]) if raw.get("record_id") not in (None, "") else None
        base = int(raw["base_version"]) if raw.get("base_version") not in (None, "") else None
        seq = int(raw.get("seq") or 0)
    except (TypeError, ValueError):
        return _refuse(
            key, _("Record, version and sequence number are whole numbers."), "invalid_edit"
        )
    return EditIn(
        key=key,
        op=op,
        kind=kind,
        made_at=made_at,
        device=str(raw.get("device") or "")[:64],
        seq=max(seq, 0),
        record_id=record_id,
        ref=str(raw.get("ref") or "")[:64],
        base_version=base,
        values=values,
    )


def _stored_result(edit: FieldEdit) -> Result:
    errors = edit.errors or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return Result(
        key=edit.key,
        status=edit.status,
        record_id=edit.record_id,
        code=str(first.get("code", "")),
        message=str(first.get("message", "")),
        errors=errors,
        conflict_fields=list(edit.conflict_fields or []),
    )


def current_version(kind: str, record_id: int | None) -> int | None:
    if record_id is None:
        return None
    return (
        MODELS[kind]
        .objects.dangerously_unscoped()
        .filter(pk=record_id)
        .values_list("version", flat=True)
        .first()
    )


def _record_row(task: Task, kind: str, record_id: int | None) -> TaskRecord | None:
    if record_id is None:
        return None
    return (
        TaskRecord.objects.dangerously_unscoped()
        .filter(task=task, kind=kind, record_id=record_id)
        .first()
    )


def _error_result(key: str, exc: WanggeError) -> Result:
    details = exc.details if isinstance(exc.details, dict) else {}
    errors = details.get("fields") or [{"code": exc.code, "message": exc.message}]
    if errors and isinstance(errors[0], dict) and "message" not in errors[0]:
        errors = [{**errors[0], "message": exc.message}, *errors[1:]]
    return Result(
        key=key, status=EditStatus.REJECTED, code=exc.code, message=exc.message, errors=errors
    )


def _values(edit: EditIn | FieldEdit) -> dict[str, Any]:
    if isinstance(edit, FieldEdit):
        return json.loads(edit.values or "{}")
    return edit.values


def apply_one(scope: Scope, task: Task, edit: EditIn | FieldEdit, *, version: int | None) -> Result:
    """Apply one edit through the ledger's services, as `scope`. A stale version is a
    conflict (status `conflict`, the fields changed since); bad values are refused with the
    same messages as everywhere."""
    values = dict(_values(edit))
    kind, pk, op = edit.kind, edit.record_id, edit.op
    try:
        with transaction.atomic():
            if op == EditOp.CONFIRM:
                return _confirm(scope, edit.key, kind, pk, version)
            if op == EditOp.CORRECT:
                if kind not in EDITABLE:
                    return _refuse(
                        edit.key, _("This kind of record has no fields to correct."), "invalid_kind"
                    )
                fields = values.get("fields") or {}
                record = _update(scope, kind, pk, version, fields)
                ledger.records_verify(actor=scope, kind=kind, versions={record.pk: record.version})
                return Result(
                    edit.key,
                    EditStatus.APPLIED,
                    record.pk,
                    record.version,
                    record_status=RecordStatus.CORRECTED,
                )
            if op == EditOp.RETIRE:
                record = _retire(scope, kind, pk, version, values)
                return Result(
                    edit.key,
                    EditStatus.APPLIED,
                    record.pk,
                    record.version,
                    record_status=RecordStatus.RETIRED,
                )
            if op == EditOp.ADD:
                record = _add(scope, task, kind, values)
                return Result(
                    edit.key,
                    EditStatus.APPLIED,
                    record.pk,
                    record.version,
                    record_status=RecordStatus.ADDED,
                )
            if op == EditOp.VISIT:
                outcome = str(values.get("outcome") or "")
                if kind != Kind.HOUSEHOLD or outcome not in Outcome.values:
                    return _refuse(edit.key, _("Choose the visit's outcome."), "invalid_outcome")
                return Result(edit.key, EditStatus.APPLIED, pk, version)
            if op == EditOp.FINDING:
                return _finding(scope, edit.key, pk, values)
    except Conflict as exc:
        if exc.code == "conflict":
            details = exc.details if isinstance(exc.details, dict) else {}
            return Result(
                edit.key,
                EditStatus.CONFLICT,
                pk,
                details.get("current_version"),
                code="conflict",
                message=exc.message,
                conflict_fields=list(details.get("changed_fields") or []),
                record_status=RecordStatus.CONFLICT,
            )
        return _error_result(edit.key, exc)
    except WanggeError as exc:
        return _error_result(edit.key, exc)
    return _refuse(edit.key, _("Unknown kind of edit."), "invalid_op")


def _confirm(scope: Scope, key: str, kind: str, pk: int | None, version: int | None) -> Result:
    if pk is None or version is None:
        return _refuse(key, _("Say which record and version you confirm."), "version_required")
    done = ledger.records_verify(actor=scope, kind=kind, versions={pk: version})
    if done.verified:
        return Result(key, EditStatus.APPLIED, pk, version, record_status=RecordStatus.CONFIRMED)
    if pk in done.stale:
        return Result(
            key,
            EditStatus.CONFLICT,
            pk,
            done.stale[pk],
            code="conflict",
            message=_("The record changed since you checked it."),
            record_status=RecordStatus.CONFLICT,
        )
    return _refuse(key, _("Not found."), "not_found")


def _update(scope: Scope, kind: str, pk: Any, version: int | None, fields: dict[str, Any]) -> Any:
    if kind == "person":
        return ledger.person_update(actor=scope, person_id=pk, version=version, values=fields)
    if kind == "organisation":
        return ledger.organisation_update(
            actor=scope, organisation_id=pk, version=version, values=fields
        )
    if kind == "thing":
        return ledger.thing_update(actor=scope, thing_id=pk, version=version, values=fields)
    return ledger.room_update(actor=scope, room_id=pk, version=version, values=fields)


def _retire(scope: Scope, kind: str, pk: Any, version: int | None, values: dict[str, Any]) -> Any:
    on = values.get("on")
    try:
        day = dt.date.fromisoformat(str(on)) if on else None
    except ValueError:
        raise ValidationFailed(
            _("Give the date as YYYY-MM-DD."), code="invalid_date", details={"field": "on"}
        ) from None
    reason, note = str(values.get("reason") or ""), str(values.get("note") or "")
    if kind == "person":
        return ledger.person_retire(
            actor=scope, person_id=pk, version=version, reason=reason, on=day, note=note
        )
    if kind == "household":
        raise ValidationFailed(
            _("A household ends when its members are retired or moved."), code="invalid_kind"
        )
    return ledger.record_retire(
        actor=scope, kind=kind, pk=pk, version=version, reason=reason, on=day, note=note
    )


def _add(scope: Scope, task: Task, kind: str, values: dict[str, Any]) -> Any:
    if kind not in ADDABLE:
        raise ValidationFailed(_("This kind of record cannot be added here."), code="invalid_kind")
    fields = values.get("fields") or {}
    confirm_new = bool(values.get("confirm_new"))
    room_code = str(values.get("room_code") or "")
    if kind == "person":
        return ledger.person_create(
            actor=scope,
            values=fields,
            grid_code="" if room_code else task.grid_code,
            room_code=room_code,
            confirm_new=confirm_new,
            source="campaign",
        )
    if kind == "organisation":
        return ledger.organisation_create(
            actor=scope,
            values=fields,
            grid_code="" if room_code or values.get("lon") else task.grid_code,
            room_code=room_code,
            lon=values.get("lon"),
            lat=values.get("lat"),
            confirm_new=confirm_new,
        )
    return ledger.thing_create(
        actor=scope, values=fields, lon=values.get("lon"), lat=values.get("lat")
    )


def _finding(scope: Scope, key: str, pk: int | None, values: dict[str, Any]) -> Result:
    """A hazard found on site becomes an event through the events intake (the same rules as
    the phone's report page, photos — base64 in `photos` — checked by it), once: the edit's
    key is the report's idempotency key."""
    from wangge.events.intake import Report, event_report

    try:
        lon = float(values["lon"]) if values.get("lon") not in (None, "") else None
        lat = float(values["lat"]) if values.get("lat") not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationFailed(_("The location is not valid."), code="invalid_point") from None
    report = Report(
        category=str(values.get("category") or ""),
        title=str(values.get("title") or "")[:100],
        description=str(values.get("description") or "")[:4000],
        lon=lon,
        lat=lat,
        address=str(values.get("address") or "")[:200],
    )
    photos = []
    for item in values.get("photos") or []:
        try:
            photos.append(base64.b64decode(str(item).split(",")[-1], validate=True))
        except (ValueError, binascii.Error):
            raise ValidationFailed(_("A photo could not be read."), code="invalid_photo") from None
    made = event_report(scope, report, idempotency_key=f"campaign:{key}", photos=photos)
    return Result(key, EditStatus.APPLIED, pk, None, event_id=made.event.pk)


# -- the batch ------------------------------------------------------------------------------


def _order(task: Task, fresh: list[EditIn]) -> tuple[list[EditIn], list[EditIn]]:
    """Which edits can be applied now (in the order made) and which wait for a predecessor."""
    held = [
        EditIn(
            key=e.key,
            op=e.op,
            kind=e.kind,
            made_at=e.made_at,
            device=e.device,
            seq=e.seq,
            record_id=e.record_id,
            ref=e.ref,
            base_version=e.base_version,
            values=json.loads(e.values or "{}"),
            stored=e,
        )
        for e in FieldEdit.objects.dangerously_unscoped().filter(task=task, status=EditStatus.HELD)
    ]
    devices = {e.device for e in fresh + held if e.device}
    last: dict[str, int] = defaultdict(int)
    for device, seq in (
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task, device__in=devices)
        .exclude(status=EditStatus.HELD)
        .values_list("device", "seq")
    ):
        last[device] = max(last[device], seq)
    ready: list[EditIn] = []
    waiting: list[EditIn] = []
    by_device: dict[str, list[EditIn]] = defaultdict(list)
    for e in fresh + held:
        (by_device[e.device] if e.device else ready).append(e)
    for device, items in by_device.items():
        expected = last[device] + 1
        for e in sorted(items, key=lambda x: x.seq):
            if e.seq == expected:
                ready.append(e)
                expected += 1
            elif e.seq < expected:
                ready.append(e)  # a sequence number already used: refused below
            else:
                waiting.append(e)
    ready.sort(key=lambda e: (e.made_at, e.device, e.seq))
    return ready, waiting


def apply_edits(
    *, actor: Any, task_id: Any, edits: list[Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Apply a batch of edits from the field to one task. Returns {"results": [...] (one per
    edit sent, in the order sent), "task": {"state", "version"}}. See the module's doc."""
    from wangge.campaigns.services import _move_state, task_for_work

    if not isinstance(edits, list):
        raise ValidationFailed(_("Send the edits as a list."), code="invalid_batch")
    if len(edits) > MAX_BATCH:
        raise ValidationFailed(
            _("Send at most %(n)d edits at a time.") % {"n": MAX_BATCH}, code="batch_too_large"
        )
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _apply(actor, task_id, edits, now, task_for_work, _move_state)
    except IntegrityError:
        # The same keys arrived twice at once: the other request stored them; a retry answers.
        raise Conflict(
            _("These edits are being saved by another request; send them again."), code="conflict"
        ) from None


def _apply(
    actor: Any,
    task_id: Any,
    edits: list[Any],
    now: dt.datetime,
    task_for_work: Any,
    move_state: Any,
) -> dict[str, Any]:
    task, work = task_for_work(actor, task_id, lock=True, now=now)
    parsed = [_parse(raw, now) for raw in edits]
    keys = [p.key for p in parsed if isinstance(p, EditIn)]
    stored = {e.key: e for e in FieldEdit.objects.dangerously_unscoped().filter(key__in=keys)}
    results: dict[str, Result] = {}
    fresh: list[EditIn] = []
    seen: set[str] = set()
    for p in parsed:
        if not isinstance(p, EditIn):
            continue
        if p.key in stored:
            e = stored[p.key]
            results[p.key] = (
                _stored_result(e)
                if e.task_id == task.pk and e.actor_id == work.user_id
                else _refuse(p.key, _("This key was used for another edit."), "key_reused")
            )
        elif p.key not in seen:
            seen.add(p.key)
            fresh.append(p)
    if fresh and task.state not in OPEN_STATES:
        for p in fresh:
            results[p.key] = _refuse(
                p.key, _("This task has been submitted; edits are no longer taken."), "task_closed"
            )
        fresh = []
    if fresh and task.state in (TaskState.ASSIGNED, TaskState.RETURNED):
        move_state(task, work, "start", TaskState.IN_PROGRESS, now=now)
    ready, waiting = _order(task, fresh)
    refs = dict(
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task, op=EditOp.ADD, status=EditStatus.APPLIED)
        .exclude(ref="")
        .values_list("ref", "record_id")
    )
    rows = {
        (r.kind, r.record_id): r
        for r in TaskRecord.objects.dangerously_unscoped().filter(task=task)
    }
    versions: dict[tuple[str, int], int] = {}
    used_seq = set(
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task, device__in={e.device for e in ready if e.device})
        .exclude(status=EditStatus.HELD)
        .values_list("device", "seq")
    )
    touched: dict[tuple[str, int | None], int] = defaultdict(int)
    for e in ready:
        if e.ref and e.record_id is None and e.op != EditOp.ADD:
            e.record_id = refs.get(e.ref)
        touched[(e.kind, e.record_id)] += 1
    bulk: dict[str, dict[int, int]] = defaultdict(dict)
    outcomes: dict[str, Result] = {}
    for e in ready:
        if e.ref and e.record_id is None and e.op != EditOp.ADD:
            e.record_id = refs.get(e.ref)  # a record the phone added earlier, maybe just now
        if e.device and (e.device, e.seq) in used_seq and e.stored is None:
            outcomes[e.key] = _refuse(
                e.key, _("This sequence number was already used."), "seq_reused"
            )
            continue
        if e.device:
            used_seq.add((e.device, e.seq))
        unknown = e.record_id is None or (e.kind, e.record_id) not in rows
        if e.op != EditOp.ADD and unknown and not (e.op == EditOp.FINDING and e.record_id is None):
            outcomes[e.key] = _refuse(e.key, _("This record is not on your task."), "not_in_task")
            continue
        if (
            e.op == EditOp.CONFIRM
            and touched[(e.kind, e.record_id)] == 1
            and e.base_version is not None
            and e.record_id is not None
        ):
            bulk[e.kind][e.record_id] = e.base_version
            continue
        version = versions.get((e.kind, e.record_id or 0), e.base_version)
        result = apply_one(
            work, task, e, version=e.base_version if e.op != EditOp.CONFIRM else version
        )
        if (
            result.status == EditStatus.APPLIED
            and result.record_id is not None
            and result.version is not None
        ):
            versions[(e.kind, result.record_id)] = result.version
        if e.op == EditOp.ADD and result.status == EditStatus.APPLIED:
            if e.ref:
                refs[e.ref] = result.record_id
            # Edits of the new record in the same batch are on the task (its row comes last).
            rows[(e.kind, result.record_id or 0)] = None
        outcomes[e.key] = result
    for kind, items in bulk.items():
        done = ledger.records_verify(actor=work, kind=kind, versions=items)
        by_key = {
            e.record_id: e
            for e in ready
            if e.op == EditOp.CONFIRM and e.kind == kind and e.record_id in items
        }
        for pk, e in by_key.items():
            if pk in done.verified:
                outcomes[e.key] = Result(
                    e.key, EditStatus.APPLIED, pk, items[pk], record_status=RecordStatus.CONFIRMED
                )
            elif pk in done.stale:
                outcomes[e.key] = Result(
                    e.key,
                    EditStatus.CONFLICT,
                    pk,
                    done.stale[pk],
                    code="conflict",
                    message=_("The record changed since you checked it."),
                    record_status=RecordStatus.CONFLICT,
                )
            else:
                outcomes[e.key] = _refuse(e.key, _("Not found."), "not_found")
    for e in waiting:
        outcomes[e.key] = Result(
            e.key,
            EditStatus.HELD,
            e.record_id,
            code="held",
            message=_("Waiting for an earlier edit from this phone."),
        )
    _store(task, work, ready + waiting, outcomes, rows, now)
    counts: dict[str, int] = defaultdict(int)
    for e in ready + waiting:
        counts[f"{e.op}.{outcomes[e.key].status}"] += 1
    if ready or waiting:
        audit_record(
            actor=work,
            action="campaign.edits",
            object_type="campaign_task",
            object_id=task.pk,
            details={
                "counts": dict(counts),
                "records": sorted({f"{e.kind}:{e.record_id}" for e in ready if e.record_id})[:1000],
            },
        )
    results.update(outcomes)
    out = []
    for p in parsed:
        if isinstance(p, EditIn):
            out.append(results[p.key].as_dict())
        else:
            out.append(p.as_dict())
    task.refresh_from_db(fields=["state", "version"])
    return {"results": out, "task": {"id": task.pk, "state": task.state, "version": task.version}}


def _store(
    task: Task,
    scope: Scope,
    edits: list[EditIn],
    outcomes: dict[str, Result],
    rows: dict[tuple[str, int], TaskRecord | None],
    now: dt.datetime,
) -> None:
    new_rows: list[FieldEdit] = []
    changed_records: dict[int, TaskRecord] = {}
    added: list[TaskRecord] = []
    for e in sorted(edits, key=lambda x: (x.made_at, x.device, x.seq)):
        r = outcomes[e.key]
        errors = r.errors or (
            [{"code": r.code, "message": r.message}] if r.status == EditStatus.REJECTED else []
        )
        if e.stored is not None:
            e.stored.status = r.status
            e.stored.record_id = r.record_id if r.record_id is not None else e.stored.record_id
            e.stored.errors = errors
            e.stored.conflict_fields = r.conflict_fields
            e.stored.save(update_fields=["status", "record_id", "errors", "conflict_fields"])
        else:
            new_rows.append(
                FieldEdit(
                    key=e.key,
                    task=task,
                    grid_code=task.grid_code,
                    device="" if r.code == "seq_reused" else e.device,
                    seq=e.seq,
                    made_at=e.made_at,
                    received_at=now,
                    actor_id=scope.user_id,
                    op=e.op,
                    kind=e.kind,
                    record_id=r.record_id if r.record_id is not None else e.record_id,
                    ref=e.ref,
                    base_version=e.base_version,
                    values=json.dumps(e.values, ensure_ascii=False) if e.values else "",
                    status=r.status,
                    errors=errors,
                    conflict_fields=r.conflict_fields,
                )
            )
        if r.status not in (EditStatus.APPLIED, EditStatus.CONFLICT):
            continue
        if e.op == EditOp.ADD and r.record_id is not None:
            added.append(
                TaskRecord(
                    task=task,
                    campaign_id_copy=task.campaign_id,
                    grid_code=task.grid_code,
                    kind=e.kind,
                    record_id=r.record_id,
                    sort_key="~/9",
                    status=RecordStatus.ADDED,
                    checked_version=r.version,
                    checked_by_id=scope.user_id,
                    checked_at=now,
                )
            )
            continue
        row = rows.get((e.kind, e.record_id or 0))
        if row is None:
            continue
        if e.op == EditOp.VISIT:
            row.outcome = str(e.values.get("outcome"))
        elif e.op == EditOp.FINDING:
            pass
        elif r.record_status and not (
            row.status == RecordStatus.ADDED and r.record_status != RecordStatus.CONFLICT
        ):
            row.status = r.record_status
            row.checked_version = r.version
        row.checked_by_id = scope.user_id
        row.checked_at = now
        changed_records[row.pk] = row
    FieldEdit.objects.bulk_create(new_rows, batch_size=1000)
    TaskRecord.objects.bulk_create(added)
    # One UPDATE per set of values (a batch of confirmations makes a few), not bulk_update's
    # CASE per row and column, which cost more than the edits themselves.
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for row in changed_records.values():
        values = (row.status, row.outcome, row.checked_version, row.checked_by_id, row.checked_at)
        groups[values].append(row.pk)
    for (status, outcome, version, by, at), ids in groups.items():
        for i in range(0, len(ids), 1000):
            TaskRecord.objects.dangerously_unscoped().filter(pk__in=ids[i : i + 1000]).update(
                status=status,
                outcome=outcome,
                checked_version=version,
                checked_by_id=by,
                checked_at=at,
            )
