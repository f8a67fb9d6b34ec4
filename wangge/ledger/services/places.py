"""Organisations, things and the standard addresses (estate → building → room): add, correct,
move, retire, restore. The same rules as people.py (see records.py): the grant covering the
record decides, a change names its version, every change is logged by field name and audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.personal import reveal
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope, require_any
from wangge.ledger import fields as ledger_fields
from wangge.ledger.importers import phone_index
from wangge.ledger.models import (
    Building,
    Estate,
    LedgerRecord,
    Organisation,
    RetireReason,
    Room,
    Thing,
)
from wangge.ledger.services import records

ORG, THING, ESTATE, BUILDING, ROOM = "organisation", "thing", "estate", "building", "room"
RETIRE_REASONS: dict[str, set[RetireReason]] = {
    ORG: {RetireReason.CLOSED, RetireReason.MOVED_AWAY, RetireReason.DUPLICATE, RetireReason.OTHER},
    THING: {RetireReason.REMOVED, RetireReason.DUPLICATE, RetireReason.OTHER},
    ESTATE: {RetireReason.DEMOLISHED, RetireReason.DUPLICATE, RetireReason.OTHER},
    BUILDING: {RetireReason.DEMOLISHED, RetireReason.DUPLICATE, RetireReason.OTHER},
    ROOM: {RetireReason.DEMOLISHED, RetireReason.DUPLICATE, RetireReason.OTHER},
}
MODELS: dict[str, type[LedgerRecord]] = {
    ORG: Organisation,
    THING: Thing,
    ESTATE: Estate,
    BUILDING: Building,
    ROOM: Room,
}


def _parse(kind: str, raw: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    values, errors = ledger_fields.parse(kind, raw, creating=creating)
    if errors:
        raise records.invalid(errors)
    attrs = ledger_fields.field_map(kind)
    return {attrs[k].attr: v for k, v in values.items()}


def _located(lon: Any, lat: Any) -> tuple[float, float, str]:
    """A point's grid (WGS-84 longitude/latitude), through the locate index."""
    from wangge.regions.services import locate_points

    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("Give the location as longitude and latitude."),
            code="location_required",
            details={"field": "lon"},
        ) from None
    if not (73 <= x <= 136 and 3 <= y <= 54):
        raise ValidationFailed(
            _("The location is not in China."), code="invalid_location", details={"field": "lon"}
        )
    _idx, codes = locate_points([x], [y])
    if codes[0] is None:
        raise ValidationFailed(
            _("The location is outside every grid of this district."),
            code="outside_grids",
            details={"field": "lon"},
        )
    return x, y, str(codes[0])


def _room_in_scope(scope: Scope, room_code: str) -> Room:
    room = Room.objects.visible_to(scope, Perm.LEDGER_EDIT).filter(code=room_code).first()
    if room is None:
        raise ValidationFailed(
            _("No standard address has this code."),
            code="unknown_address",
            details={"field": "room_code"},
        )
    return room


def _place(
    scope: Scope, *, grid_code: str = "", room_code: str = "", lon: Any = None, lat: Any = None
) -> dict[str, Any]:
    """Where a record goes: an address (room) in scope, a point, or a grid code — in that
    order; the grid must be one the actor keeps the ledger of."""
    place: dict[str, Any] = {}
    if room_code:
        room = _room_in_scope(scope, room_code)
        place.update(room=room, grid_code=room.grid_code)
    elif lon not in (None, "") and lat not in (None, ""):
        x, y, code = _located(lon, lat)
        place.update(lon=x, lat=y, grid_code=code)
    elif grid_code:
        place["grid_code"] = grid_code
    else:
        raise ValidationFailed(
            _("Give the address code, the location or the grid."),
            code="location_required",
            details={"field": "grid_code"},
        )
    records.require_edit_at(scope, place["grid_code"])
    return place


def _saved(record: LedgerRecord) -> None:
    """Insert a new record; a unique code that raced in is a duplicate."""
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This code is already in the ledger."), code="duplicate") from None


def _create_log(record: LedgerRecord, scope: Scope, kind: str, attrs: dict[str, Any]) -> None:
    records.log_change(record, actor=scope, kind=kind, action="create", changed=sorted(attrs))


def _update(kind: str, *, actor: Any, pk: int, version: int | None, values: dict[str, Any]) -> Any:
    scope = as_scope(actor)
    record = records.for_edit(MODELS[kind], actor=scope, kind=kind, pk=pk)
    attrs = _parse(kind, dict(values), creating=False)
    records.check_version(record, kind=kind, version=version)
    if kind == ORG:
        attrs = _organisation_attrs(attrs)
        if attrs.get("credit_code") and attrs["credit_code"] != getattr(record, "credit_code", ""):
            _credit_code_free(scope, attrs["credit_code"], exclude=record.pk)
    changed = records.apply(record, attrs)
    if changed:
        extra = ("phone_index",) if "phone" in changed else ()
        records.save_change(
            record, actor=scope, kind=kind, action="update", changed=changed, extra_fields=extra
        )
    return record


@transaction.atomic
def record_retire(
    *,
    actor: Any,
    kind: str,
    pk: int,
    version: int | None,
    reason: str,
    on: dt.date | None = None,
    note: str = "",
) -> Any:
    """Retire an organisation (closed), a thing (removed) or an address (demolished)."""
    if kind not in MODELS:
        raise ValidationFailed(code="unknown_kind", details={"kind": kind})
    return records.retire(
        MODELS[kind],
        actor=actor,
        kind=kind,
        pk=pk,
        version=version,
        reason=reason,
        on=on,
        note=note,
        allowed=RETIRE_REASONS[kind],
    )


@transaction.atomic
def record_restore(*, actor: Any, kind: str, pk: int, version: int | None) -> Any:
    return records.restore(MODELS[kind], actor=actor, kind=kind, pk=pk, version=version)


def _move(kind: str, *, actor: Any, pk: int, version: int | None, **where: Any) -> Any:
    scope = as_scope(actor)
    record = records.for_edit(MODELS[kind], actor=scope, kind=kind, pk=pk)
    records.check_version(record, kind=kind, version=version)
    place = _place(scope, **where)
    changed = records.apply(record, place)
    if changed:
        records.save_change(record, actor=scope, kind=kind, action="move", changed=changed)
    return record


# -- organisations ---------------------------------------------------------------------------


def _organisation_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    if "phone" in attrs:
        attrs["phone_index"] = phone_index(attrs["phone"] or "")
    return attrs


def _credit_code_free(scope: Scope, code: str, *, exclude: int | None = None) -> None:
    """The same credit code registered in scope: that organisation; elsewhere: the code
    cannot be used here (which organisation, and where, stays unsaid)."""
    found = (
        Organisation.objects.dangerously_unscoped()
        .filter(credit_code=code)
        .exclude(pk=exclude)
        .values_list("pk", "grid_code")
        .first()
    )
    if found is None:
        return
    if scope.holds(Perm.LEDGER_VIEW, found[1]):
        raise Conflict(
            _("This credit code is already in the ledger."),
            code="duplicate",
            details={"id": found[0]},
        )
    raise ValidationFailed(
        _("This credit code cannot be used here; ask the district to check it."),
        code="credit_code_taken",
        details={"fields": [{"field": "credit_code", "code": "credit_code_taken"}]},
    )


@transaction.atomic
def organisation_create(
    *,
    actor: Any,
    values: dict[str, Any],
    grid_code: str = "",
    room_code: str = "",
    lon: Any = None,
    lat: Any = None,
    confirm_new: bool = False,
) -> Organisation:
    """Add an organisation. The same credit code: the one registered (Conflict `duplicate`);
    the same name in the grid: Conflict `possible_duplicate` unless `confirm_new`."""
    scope = require_any(actor, Perm.LEDGER_EDIT)
    attrs = _organisation_attrs(_parse(ORG, dict(values), creating=True))
    place = _place(scope, grid_code=grid_code, room_code=room_code, lon=lon, lat=lat)
    if attrs.get("credit_code"):
        _credit_code_free(scope, attrs["credit_code"])
    if not confirm_new:
        same = list(
            Organisation.objects.visible_to(scope, Perm.LEDGER_VIEW)
            .filter(grid_code=place["grid_code"], name=attrs["name"], retired_on__isnull=True)
            .values("id", "name", "grid_code")[:10]
        )
        if same:
            raise Conflict(
                _("An organisation of this name is already in the grid. Is it the same one?"),
                code="possible_duplicate",
                details={"candidates": same},
            )
    organisation = Organisation(**place, **attrs)
    _saved(organisation)
    _create_log(organisation, scope, ORG, attrs)
    return organisation


@transaction.atomic
def organisation_update(
    *, actor: Any, organisation_id: int, version: int | None, values: dict[str, Any]
) -> Organisation:
    result: Organisation = _update(
        ORG, actor=actor, pk=organisation_id, version=version, values=values
    )
    return result


@transaction.atomic
def organisation_move(
    *,
    actor: Any,
    organisation_id: int,
    version: int | None,
    grid_code: str = "",
    room_code: str = "",
    lon: Any = None,
    lat: Any = None,
) -> Organisation:
    result: Organisation = _move(
        ORG,
        actor=actor,
        pk=organisation_id,
        version=version,
        grid_code=grid_code,
        room_code=room_code,
        lon=lon,
        lat=lat,
    )
    return result


def organisation_retire(**kwargs: Any) -> Organisation:
    pk = kwargs.pop("organisation_id")
    result: Organisation = record_retire(kind=ORG, pk=pk, **kwargs)
    return result


def organisation_restore(*, actor: Any, organisation_id: int, version: int | None) -> Organisation:
    result: Organisation = record_restore(
        actor=actor, kind=ORG, pk=organisation_id, version=version
    )
    return result


@transaction.atomic
def organisation_reveal(*, actor: Any, organisation_id: int, reason: str) -> str:
    """An organisation's full phone (a contact person's number is personal data too)."""
    from wangge.ledger.selectors import organisation_get

    organisation = organisation_get(actor=actor, organisation_id=organisation_id)
    reveal(
        actor=actor,
        object_type="organisation",
        object_id=organisation.pk,
        field="phone",
        reason=reason,
        codes=[organisation.grid_code],
    )
    return str(organisation.phone)


# -- things ----------------------------------------------------------------------------------


@transaction.atomic
def thing_create(*, actor: Any, values: dict[str, Any], lon: Any, lat: Any) -> Thing:
    """Add a component or facility at a point; its classes come from its code (area 6 +
    major 2 + minor 2 or 3 + sequence 6)."""
    scope = as_scope(actor)
    if not scope.has(Perm.LEDGER_EDIT):  # departments see things but do not keep the ledger
        raise PermissionDenied(_("Your role may not change the ledger."))
    attrs = _parse(THING, dict(values), creating=True)
    place = _place(scope, lon=lon, lat=lat)
    code = attrs["code"]
    attrs["major"], attrs["minor"] = code[6:8], code[8:10] if len(code) == 16 else code[8:11]
    if Thing.objects.dangerously_unscoped().filter(code=code).exists():
        # Codes are public on the component's plate: saying it exists discloses nothing.
        raise Conflict(_("This code is already in the ledger."), code="duplicate")
    thing = Thing(**place, **attrs)
    _saved(thing)
    _create_log(thing, scope, THING, attrs)
    return thing


@transaction.atomic
def thing_update(
    *, actor: Any, thing_id: int, version: int | None, values: dict[str, Any]
) -> Thing:
    result: Thing = _update(THING, actor=actor, pk=thing_id, version=version, values=values)
    return result


@transaction.atomic
def thing_move(*, actor: Any, thing_id: int, version: int | None, lon: Any, lat: Any) -> Thing:
    result: Thing = _move(THING, actor=actor, pk=thing_id, version=version, lon=lon, lat=lat)
    return result


def thing_retire(**kwargs: Any) -> Thing:
    pk = kwargs.pop("thing_id")
    result: Thing = record_retire(kind=THING, pk=pk, **kwargs)
    return result


def thing_restore(*, actor: Any, thing_id: int, version: int | None) -> Thing:
    result: Thing = record_restore(actor=actor, kind=THING, pk=thing_id, version=version)
    return result


# -- standard addresses ----------------------------------------------------------------------


def _digits(value: Any, length: int, field: str) -> str:
    text = str(value or "").strip()
    if not (text.isdigit() and len(text) == length):
        raise ValidationFailed(
            _("The code must have %(n)d digits.") % {"n": length},
            code="invalid_code",
            details={"field": field},
        )
    return text


@transaction.atomic
def estate_create(*, actor: Any, code: str, name: str, grid_code: str) -> Estate:
    """A new estate (小区): code = its community's 12 digits + 3; it lies in a grid of that
    community the actor keeps the ledger of."""
    scope = require_any(actor, Perm.LEDGER_EDIT)
    code = _digits(code, 15, "code")
    records.require_edit_at(scope, grid_code)
    if not grid_code.startswith(code[:12]):
        raise ValidationFailed(
            _("An estate's code starts with its community's code."),
            code="code_mismatch",
            details={"field": "code"},
        )
    attrs = _parse(ESTATE, {"estate_name": name}, creating=True)
    if Estate.objects.dangerously_unscoped().filter(code=code).exists():
        raise ValidationFailed(_("This code cannot be used; choose another."), code="code_taken")
    estate = Estate(code=code, grid_code=grid_code, **attrs)
    _saved(estate)
    _create_log(estate, scope, ESTATE, {"code": code, **attrs})
    return estate


@transaction.atomic
def estate_update(*, actor: Any, estate_id: int, version: int | None, name: str) -> Estate:
    result: Estate = _update(
        ESTATE, actor=actor, pk=estate_id, version=version, values={"estate_name": name}
    )
    return result


@transaction.atomic
def building_create(
    *, actor: Any, estate_id: int, number: str, values: dict[str, Any], lon: Any, lat: Any
) -> Building:
    """A new building of an estate the actor may edit (never another street's: an estate is
    looked up only inside the actor's scope, finding 8); its location puts it in a grid."""
    from wangge.ledger.selectors import estate_get

    scope = as_scope(actor)
    estate = estate_get(actor=scope, estate_id=estate_id)
    scope.require_for(Perm.LEDGER_EDIT, estate, _("Your role may not change this record."))
    code = estate.code + _digits(number, 3, "number")
    attrs = _parse(BUILDING, dict(values), creating=True)
    place = _place(scope, lon=lon, lat=lat)
    if Building.objects.dangerously_unscoped().filter(code=code).exists():
        raise ValidationFailed(_("This code cannot be used; choose another."), code="code_taken")
    building = Building(code=code, estate=estate, **place, **attrs)
    _saved(building)
    _create_log(building, scope, BUILDING, {"code": code, **attrs})
    return building


@transaction.atomic
def building_update(
    *, actor: Any, building_id: int, version: int | None, values: dict[str, Any]
) -> Building:
    result: Building = _update(
        BUILDING, actor=actor, pk=building_id, version=version, values=values
    )
    return result


@transaction.atomic
def room_create(*, actor: Any, building_id: int, values: dict[str, Any]) -> Room:
    """A new room of a building the actor may edit: code = building 18 + unit 2 + room 4."""
    from wangge.ledger.selectors import building_get

    scope = as_scope(actor)
    building = building_get(actor=scope, building_id=building_id)
    scope.require_for(Perm.LEDGER_EDIT, building, _("Your role may not change this record."))
    attrs = _parse(ROOM, dict(values), creating=True)
    number = str(attrs.get("number") or "")
    if not number.isdigit() or attrs.get("unit") is None or attrs.get("floor") is None:
        raise ValidationFailed(
            _("Give the unit, the floor and the room number (digits)."),
            code="required",
            details={"field": "number"},
        )
    code = f"{building.code}{int(attrs['unit']):02d}{int(number):04d}"
    if Room.objects.dangerously_unscoped().filter(code=code).exists():
        raise ValidationFailed(_("This room is already registered."), code="code_taken")
    room = Room(code=code, building=building, grid_code=building.grid_code, **attrs)
    _saved(room)
    _create_log(room, scope, ROOM, {"code": code, **attrs})
    return room


@transaction.atomic
def room_update(*, actor: Any, room_id: int, version: int | None, values: dict[str, Any]) -> Room:
    result: Room = _update(ROOM, actor=actor, pk=room_id, version=version, values=values)
    return result


# -- verification in the field ----------------------------------------------------------------


@dataclass
class Verified:
    verified: list[int]  # ids marked verified today
    stale: dict[int, int]  # id → the version the ledger holds now (not what was confirmed)
    missing: list[int]  # not found, retired, or not the actor's to edit


@transaction.atomic
def records_verify(*, actor: Any, kind: str, versions: dict[int, int]) -> Verified:
    """Someone checked these records in the field and found them right (a campaign's confirm,
    or after a correction): `versions` maps each record to the version they saw. Sets
    `verified_on` to today without a new version: it changes no value, so it must not make
    other people's edits stale. A record whose version moved since is not verified (what was
    confirmed is not what the ledger holds) and comes back in `stale`. One query to read, one
    to write and one audit entry (the change log holds changes of values only), so a
    phone's batch of hundreds of confirmations is one call."""
    from django.utils import timezone

    from wangge.ledger.models import Household, Person

    models_: dict[str, Any] = {**MODELS, "person": Person, "household": Household}
    if kind not in models_:
        raise ValidationFailed(code="unknown_kind", details={"kind": kind})
    scope = as_scope(actor)
    model = models_[kind]
    found = (
        model.objects.visible_to(scope, records.view_perm(kind))
        .filter(pk__in=list(versions), retired_on=None)
        .select_for_update()
    )
    ok: list[int] = []
    stale: dict[int, int] = {}
    for record in found.only("id", "version", "grid_code"):
        if not scope.holds_for(Perm.LEDGER_EDIT, record):
            continue
        if record.version != int(versions[record.pk]):
            stale[record.pk] = record.version
            continue
        ok.append(record.pk)
    missing = sorted(set(versions) - set(ok) - set(stale))
    if ok:
        today = timezone.localdate()
        model.objects.dangerously_unscoped().filter(pk__in=ok).update(verified_on=today)
        audit_record(
            actor=scope,
            action=f"{kind}.verify",
            object_type=kind,
            object_id=ok[0] if len(ok) == 1 else "",
            details={"records": len(ok), "ids": ok[:1000]},
        )
    return Verified(verified=ok, stale=stale, missing=missing)
