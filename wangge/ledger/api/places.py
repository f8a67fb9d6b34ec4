"""Organisations, things and standard addresses: lists, one record, add, correct, move,
retire, restore; the map layer and the counts. Handlers translate; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from wangge.core.api import ERRORS, actor
from wangge.core.errors import ValidationFailed
from wangge.core.personal import mask_phone
from wangge.ledger import selectors, services
from wangge.ledger.api.common import (
    CREATE_ERRORS,
    LEDGER_WRITE_ERRORS,
    ChangeOut,
    RetireIn,
    VersionIn,
    version_of,
)
from wangge.ledger.models import Organisation
from wangge.ledger.schemas import record_schema, values_of

router = Router(tags=["ledger"])

_WHERE = {"grid_code", "room_code", "lon", "lat", "confirm_new", "version"}


class WhereIn(Schema):
    grid_code: str = Field("", max_length=15)
    room_code: str = Field("", max_length=24)
    lon: float | None = Field(None, ge=73, le=136)
    lat: float | None = Field(None, ge=3, le=54)


_PLACE = {
    "grid_code": (str, Field("", max_length=15, description="the grid, when no address or point")),
    "room_code": (str, Field("", max_length=24, description="the standard address (room)")),
    "lon": (float | None, Field(None, ge=73, le=136, description="WGS-84")),
    "lat": (float | None, Field(None, ge=3, le=54, description="WGS-84")),
}


# -- organisations ---------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    grid_code: str
    name: str
    credit_code: str
    kind: str
    legal_representative: str
    phone: str
    address: str
    employees: int | None
    key_tags: str
    lon: float | None = None
    lat: float | None = None
    version: int
    retired_on: dt.date | None = None
    retired_reason: str = ""

    @staticmethod
    def resolve_phone(obj: Organisation) -> str:
        return mask_phone(obj.phone) if obj.phone else ""


class OrganisationPage(Schema):
    count: int
    items: list[OrganisationOut]


@router.get(
    "/organisations", response={200: OrganisationPage, **ERRORS}, summary="Organisations in scope"
)
def organisations(
    request: HttpRequest,
    q: str = "",
    kind: str = "",
    grid: str = "",
    retired: bool = False,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    qs = selectors.organisation_list(
        actor=actor(request), q=q, kind=kind, grid=grid, retired=retired
    )
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **ERRORS},
    summary="One organisation",
)
def organisation_detail(request: HttpRequest, organisation_id: int) -> Any:
    return selectors.organisation_get(actor=actor(request), organisation_id=organisation_id)


OrganisationIn = record_schema(
    "organisation",
    "OrganisationIn",
    partial=False,
    extra={**_PLACE, "confirm_new": (bool, Field(False, description="not a possible duplicate"))},
)
OrganisationPatch = record_schema(
    "organisation",
    "OrganisationPatch",
    partial=True,
    extra={"version": (int | None, Field(None, description='or If-Match: "N"'))},
)


@router.post(
    "/organisations",
    response={201: OrganisationOut, **CREATE_ERRORS},
    summary="Add an organisation (409 duplicate / possible_duplicate)",
)
def organisation_create(request: HttpRequest, payload: OrganisationIn) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    organisation = services.organisation_create(
        actor=actor(request),
        values=values_of(p, exclude=_WHERE),
        grid_code=p.grid_code,
        room_code=p.room_code,
        lon=p.lon,
        lat=p.lat,
        confirm_new=p.confirm_new,
    )
    return Status(201, organisation)


@router.patch(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **LEDGER_WRITE_ERRORS},
    summary="Correct an organisation (name the version)",
)
def organisation_update(
    request: HttpRequest,
    organisation_id: int,
    payload: OrganisationPatch,  # type: ignore[valid-type]
) -> Any:
    p: Any = payload
    return services.organisation_update(
        actor=actor(request),
        organisation_id=organisation_id,
        version=version_of(request, p.version),
        values=values_of(p, exclude=_WHERE),
    )


class PlaceMoveIn(WhereIn, VersionIn):
    pass


@router.post(
    "/organisations/{organisation_id}/move",
    response={200: OrganisationOut, **LEDGER_WRITE_ERRORS},
    summary="Move an organisation (address, point or grid)",
)
def organisation_move(request: HttpRequest, organisation_id: int, payload: PlaceMoveIn) -> Any:
    return services.organisation_move(
        actor=actor(request),
        organisation_id=organisation_id,
        version=version_of(request, payload.version),
        grid_code=payload.grid_code,
        room_code=payload.room_code,
        lon=payload.lon,
        lat=payload.lat,
    )


@router.post(
    "/organisations/{organisation_id}/retire",
    response={200: OrganisationOut, **LEDGER_WRITE_ERRORS},
    summary="Retire an organisation (closed, moved away)",
)
def organisation_retire(request: HttpRequest, organisation_id: int, payload: RetireIn) -> Any:
    return services.organisation_retire(
        actor=actor(request),
        organisation_id=organisation_id,
        version=version_of(request, payload.version),
        reason=payload.reason,
        on=payload.on,
        note=payload.note,
    )


@router.post(
    "/organisations/{organisation_id}/restore",
    response={200: OrganisationOut, **LEDGER_WRITE_ERRORS},
    summary="Undo a retirement",
)
def organisation_restore(request: HttpRequest, organisation_id: int, payload: VersionIn) -> Any:
    return services.organisation_restore(
        actor=actor(request),
        organisation_id=organisation_id,
        version=version_of(request, payload.version),
    )


@router.get(
    "/organisations/{organisation_id}/history",
    response={200: list[ChangeOut], **ERRORS},
    summary="Changes of an organisation (field names, never values)",
)
def organisation_history(request: HttpRequest, organisation_id: int) -> Any:
    who = actor(request)
    record = selectors.organisation_get(actor=who, organisation_id=organisation_id)
    return selectors.record_history(actor=who, kind="organisation", record=record)


# -- things ----------------------------------------------------------------------------------


class ThingOut(Schema):
    id: int
    code: str
    name: str
    major: str
    minor: str
    responsible_unit: str
    state: str
    lon: float
    lat: float
    grid_code: str
    note: str = ""
    version: int
    retired_on: dt.date | None = None
    retired_reason: str = ""


class ThingPage(Schema):
    count: int
    items: list[ThingOut]


@router.get(
    "/things", response={200: ThingPage, **ERRORS}, summary="Components and facilities in scope"
)
def things(
    request: HttpRequest,
    major: str = "",
    minor: str = "",
    state: str = "",
    grid: str = "",
    retired: bool = False,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    qs = selectors.thing_list(
        actor=actor(request), major=major, minor=minor, state=state, grid=grid, retired=retired
    )
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get("/things/{thing_id}", response={200: ThingOut, **ERRORS}, summary="One thing")
def thing_detail(request: HttpRequest, thing_id: int) -> Any:
    return selectors.thing_get(actor=actor(request), thing_id=thing_id)


ThingIn = record_schema(
    "thing",
    "ThingIn",
    partial=False,
    extra={
        "lon": (float, Field(..., ge=73, le=136, description="WGS-84")),
        "lat": (float, Field(..., ge=3, le=54, description="WGS-84")),
    },
)
ThingPatch = record_schema(
    "thing",
    "ThingPatch",
    partial=True,
    extra={"version": (int | None, Field(None, description='or If-Match: "N"'))},
)


@router.post(
    "/things", response={201: ThingOut, **CREATE_ERRORS}, summary="Add a component or facility"
)
def thing_create(request: HttpRequest, payload: ThingIn) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    thing = services.thing_create(
        actor=actor(request), values=values_of(p, exclude=_WHERE), lon=p.lon, lat=p.lat
    )
    return Status(201, thing)


@router.patch(
    "/things/{thing_id}",
    response={200: ThingOut, **LEDGER_WRITE_ERRORS},
    summary="Correct a thing (state, name …; name the version)",
)
def thing_update(request: HttpRequest, thing_id: int, payload: ThingPatch) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    return services.thing_update(
        actor=actor(request),
        thing_id=thing_id,
        version=version_of(request, p.version),
        values=values_of(p, exclude=_WHERE),
    )


class PointIn(VersionIn):
    lon: float = Field(ge=73, le=136)
    lat: float = Field(ge=3, le=54)


@router.post(
    "/things/{thing_id}/move",
    response={200: ThingOut, **LEDGER_WRITE_ERRORS},
    summary="Move a thing to another point",
)
def thing_move(request: HttpRequest, thing_id: int, payload: PointIn) -> Any:
    return services.thing_move(
        actor=actor(request),
        thing_id=thing_id,
        version=version_of(request, payload.version),
        lon=payload.lon,
        lat=payload.lat,
    )


@router.post(
    "/things/{thing_id}/retire",
    response={200: ThingOut, **LEDGER_WRITE_ERRORS},
    summary="Retire a thing (removed)",
)
def thing_retire(request: HttpRequest, thing_id: int, payload: RetireIn) -> Any:
    return services.thing_retire(
        actor=actor(request),
        thing_id=thing_id,
        version=version_of(request, payload.version),
        reason=payload.reason,
        on=payload.on,
        note=payload.note,
    )


@router.post(
    "/things/{thing_id}/restore",
    response={200: ThingOut, **LEDGER_WRITE_ERRORS},
    summary="Undo a retirement",
)
def thing_restore(request: HttpRequest, thing_id: int, payload: VersionIn) -> Any:
    return services.thing_restore(
        actor=actor(request), thing_id=thing_id, version=version_of(request, payload.version)
    )


# -- standard addresses ----------------------------------------------------------------------


class RoomOut(Schema):
    id: int
    code: str
    unit: int
    number: str
    floor: int
    area_m2: float | None
    use: str
    grid_code: str
    version: int


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    address: str
    lon: float
    lat: float
    floors: int
    units: int
    grid_code: str
    version: int


class BuildingDetailOut(BuildingOut):
    rooms: list[RoomOut]


class EstateOut(Schema):
    id: int
    code: str
    name: str
    grid_code: str
    version: int


class EstateDetailOut(EstateOut):
    buildings: list[BuildingOut]


@router.get("/estates", response={200: list[EstateOut], **ERRORS}, summary="Estates in scope")
def estates(request: HttpRequest, grid: str = "") -> Any:
    return list(selectors.estate_list(actor=actor(request), grid=grid)[:1000])


class EstateIn(Schema):
    code: str = Field(min_length=15, max_length=15, description="community 12 digits + 3")
    name: str = Field(min_length=1, max_length=100)
    grid_code: str = Field(min_length=15, max_length=15)


@router.post("/estates", response={201: EstateOut, **LEDGER_WRITE_ERRORS}, summary="Add an estate")
def estate_create(request: HttpRequest, payload: EstateIn) -> Any:
    estate = services.estate_create(
        actor=actor(request), code=payload.code, name=payload.name, grid_code=payload.grid_code
    )
    return Status(201, estate)


@router.get("/estates/{estate_id}", response={200: EstateDetailOut, **ERRORS}, summary="An estate")
def estate_detail(request: HttpRequest, estate_id: int) -> Any:
    who = actor(request)
    estate = selectors.estate_get(actor=who, estate_id=estate_id)
    buildings = selectors.estate_buildings(actor=who, estate=estate)
    return {**EstateOut.from_orm(estate).dict(), "buildings": buildings}


class EstatePatch(VersionIn):
    name: str = Field(min_length=1, max_length=100)


@router.patch(
    "/estates/{estate_id}", response={200: EstateOut, **LEDGER_WRITE_ERRORS}, summary="Rename"
)
def estate_update(request: HttpRequest, estate_id: int, payload: EstatePatch) -> Any:
    return services.estate_update(
        actor=actor(request),
        estate_id=estate_id,
        version=version_of(request, payload.version),
        name=payload.name,
    )


BuildingIn = record_schema(
    "building",
    "BuildingIn",
    partial=False,
    extra={
        "number": (
            str,
            Field(..., min_length=3, max_length=3, description="3 digits in the estate"),
        ),
        "lon": (float, Field(..., ge=73, le=136)),
        "lat": (float, Field(..., ge=3, le=54)),
    },
)
BuildingPatch = record_schema(
    "building",
    "BuildingPatch",
    partial=True,
    extra={"version": (int | None, Field(None, description='or If-Match: "N"'))},
)


@router.post(
    "/estates/{estate_id}/buildings",
    response={201: BuildingOut, **LEDGER_WRITE_ERRORS},
    summary="Add a building to an estate",
)
def building_create(request: HttpRequest, estate_id: int, payload: BuildingIn) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    building = services.building_create(
        actor=actor(request),
        estate_id=estate_id,
        number=p.number,
        values=values_of(p, exclude={"number", "lon", "lat"}),
        lon=p.lon,
        lat=p.lat,
    )
    return Status(201, building)


@router.get(
    "/buildings/{building_id}", response={200: BuildingDetailOut, **ERRORS}, summary="A building"
)
def building_detail(request: HttpRequest, building_id: int) -> Any:
    who = actor(request)
    building = selectors.building_get(actor=who, building_id=building_id)
    rooms = selectors.building_rooms(actor=who, building=building)
    return {**BuildingOut.from_orm(building).dict(), "rooms": rooms}


@router.patch(
    "/buildings/{building_id}",
    response={200: BuildingOut, **LEDGER_WRITE_ERRORS},
    summary="Correct a building",
)
def building_update(request: HttpRequest, building_id: int, payload: BuildingPatch) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    return services.building_update(
        actor=actor(request),
        building_id=building_id,
        version=version_of(request, p.version),
        values=values_of(p, exclude={"version"}),
    )


RoomIn = record_schema("room", "RoomIn", partial=False)
RoomPatch = record_schema(
    "room",
    "RoomPatch",
    partial=True,
    extra={"version": (int | None, Field(None, description='or If-Match: "N"'))},
)


@router.post(
    "/buildings/{building_id}/rooms",
    response={201: RoomOut, **LEDGER_WRITE_ERRORS},
    summary="Add a room (unit, floor, number)",
)
def room_create(request: HttpRequest, building_id: int, payload: RoomIn) -> Any:  # type: ignore[valid-type]
    room = services.room_create(
        actor=actor(request), building_id=building_id, values=values_of(payload, exclude=set())
    )
    return Status(201, room)


@router.patch(
    "/rooms/{room_id}", response={200: RoomOut, **LEDGER_WRITE_ERRORS}, summary="Correct a room"
)
def room_update(request: HttpRequest, room_id: int, payload: RoomPatch) -> Any:  # type: ignore[valid-type]
    p: Any = payload
    return services.room_update(
        actor=actor(request),
        room_id=room_id,
        version=version_of(request, p.version),
        values=values_of(p, exclude={"version"}),
    )


class RetiredOut(Schema):
    id: int
    version: int
    retired_on: dt.date | None
    retired_reason: str


@router.post(
    "/addresses/{kind}/{record_id}/retire",
    response={200: RetiredOut, **LEDGER_WRITE_ERRORS},
    summary="Retire an estate, building or room (demolished, duplicate)",
)
def address_retire(
    request: HttpRequest,
    kind: Literal["estate", "building", "room"],
    record_id: int,
    payload: RetireIn,
) -> Any:
    return services.record_retire(
        actor=actor(request),
        kind=kind,
        pk=record_id,
        version=version_of(request, payload.version),
        reason=payload.reason,
        on=payload.on,
        note=payload.note,
    )


# -- map and counts --------------------------------------------------------------------------


@router.get(
    "/ledger/map.geojson",
    response={200: dict[str, Any], **ERRORS},
    summary="Things and buildings in scope",
)
def ledger_map(request: HttpRequest, bbox: str = "") -> Any:
    box = None
    if bbox:
        try:
            parts = [float(v) for v in bbox.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4:
            raise ValidationFailed("bbox needs four numbers", code="invalid")
        box = (parts[0], parts[1], parts[2], parts[3])
    return selectors.map_features(actor=actor(request), bbox=box)


@router.get(
    "/ledger/counts", response={200: dict[str, int], **ERRORS}, summary="Ledger counts in scope"
)
def ledger_counts(request: HttpRequest) -> Any:
    return selectors.ledger_counts(actor=actor(request))
