"""People and households: lists, one person, add, correct, move, retire, restore, reveal,
export; households and their members. Handlers translate; the services decide."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from wangge.core.api import ERRORS, WRITE_ERRORS, ErrorOut, RevealIn, RevealOut, actor
from wangge.core.errors import ValidationFailed
from wangge.core.personal import age_on, birth_year, mask_id_number, mask_phone
from wangge.ledger import selectors, services
from wangge.ledger.api.common import (
    CREATE_ERRORS,
    LEDGER_WRITE_ERRORS,
    ChangeOut,
    RetireIn,
    VersionIn,
    version_of,
)
from wangge.ledger.models import Person
from wangge.ledger.schemas import record_schema, values_of

router = Router(tags=["ledger"])

PLACEMENT = {"grid_code", "room_code", "confirm_new", "version"}


class PersonOut(Schema):
    # Resolvers also accept the already-resolved dict the detail endpoints build.
    id: int
    grid_code: str
    name: str
    gender: str
    birth_year: int | None = Field(None, description="the year only: the date would unmask the ID")
    age: int | None = None
    id_number: str = Field(description="masked: 440704************")
    phone: str = Field(description="masked: 138****1234")
    population_type: str
    separated: bool
    current_address: str
    care_tags: list[str]
    household_id: int | None = None
    relation: str
    version: int
    retired_on: Any = None
    retired_reason: str = ""

    @staticmethod
    def resolve_birth_year(obj: Any) -> int | None:
        if isinstance(obj, dict):  # the detail endpoint's dict, resolved already
            return obj["birth_year"]
        return birth_year(obj.birth_date)

    @staticmethod
    def resolve_age(obj: Any) -> int | None:
        if isinstance(obj, dict):  # the detail endpoint's dict, resolved already
            return obj["age"]
        return age_on(obj.birth_date, timezone.localdate())

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        if isinstance(obj, dict):  # the detail endpoint's dict, resolved already
            return obj["id_number"]
        return mask_id_number(obj.id_number) if obj.id_number else ""

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        if isinstance(obj, dict):  # the detail endpoint's dict, resolved already
            return obj["phone"]
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_care_tags(obj: Any) -> list[str]:
        if isinstance(obj, dict):  # the detail endpoint's dict, resolved already
            return obj["care_tags"]
        return list(obj.care_tag_list())


class PersonPage(Schema):
    count: int
    items: list[PersonOut]
    next_after: int | None = Field(None, description="pass as `after` for the next page")


class PersonFilter(Schema):
    q: str = Field(
        "",
        description="name prefix, or a full ID number or phone (exact; only for roles that may "
        "reveal, audited and limited per hour)",
    )
    grid: str = Field("", description="region code prefix")
    care_tag: str = ""
    special_tag: str = Field("", description="needs ledger.sensitive; else matches nobody")
    address: str = ""
    retired: bool = Field(False, description="people who left (retired records) instead")
    limit: int = Field(50, ge=1, le=500)
    after: int | None = Field(None, ge=0, le=2**63 - 1, description="keyset: the last id seen")


def _filters(f: PersonFilter) -> dict[str, Any]:
    return {
        "q": f.q,
        "grid": f.grid,
        "care_tag": f.care_tag,
        "special_tag": f.special_tag,
        "address": f.address,
        "retired": f.retired,
    }


@router.get(
    "/people",
    response={200: PersonPage, **ERRORS, 403: ErrorOut, 429: ErrorOut},
    summary="People in scope",
)
def people(request: HttpRequest, filters: Query[PersonFilter]) -> Any:
    qs = selectors.person_list(actor=actor(request), **_filters(filters)).order_by("id")
    page = qs.filter(id__gt=filters.after) if filters.after else qs
    items = list(page[: filters.limit])
    return {
        "count": qs.count(),
        "items": items,
        "next_after": items[-1].pk if len(items) == filters.limit else None,
    }


class MemberOut(Schema):
    id: int
    name: str
    relation: str


class PersonDetailOut(PersonOut):
    ethnicity: str
    registered_address: str
    move_in: Any = None
    expected_leave: Any = None
    employer: str
    occupation: str
    marital_status: str
    education: str
    political_status: str
    address_code: str | None = None
    household: list[MemberOut]
    special_tags: list[str] | None = Field(
        None, description="present only for roles allowed to see special groups"
    )


def _detail(who: Any, person: Person) -> HttpResponse | dict[str, Any]:
    data = PersonOut.from_orm(person).dict()
    data.update(
        ethnicity=person.ethnicity,
        registered_address=person.registered_address,
        move_in=person.move_in,
        expected_leave=person.expected_leave,
        employer=person.employer,
        occupation=person.occupation,
        marital_status=person.marital_status,
        education=person.education,
        political_status=person.political_status,
        address_code=person.room.code if person.room else None,
        household=[
            {"id": m.pk, "name": m.name, "relation": m.relation}
            for m in selectors.person_household(actor=who, person=person)
        ],
        special_tags=selectors.person_special_tags(actor=who, person=person),
    )
    return data


@router.get(
    "/people/{person_id}",
    response={200: PersonDetailOut, **ERRORS},
    summary="One person (every view is audited; the ETag is the version)",
    exclude_none=True,
)
def person_detail(request: HttpRequest, response: HttpResponse, person_id: int) -> Any:
    who = actor(request)
    person = selectors.person_get(actor=who, person_id=person_id)
    services.person_viewed(actor=who, person=person, via="api")
    response["ETag"] = f'"{person.version}"'
    return _detail(who, person)


PersonIn = record_schema(
    "person",
    "PersonIn",
    partial=False,
    extra={
        "grid_code": (str, Field("", max_length=15, description="the grid, when no room_code")),
        "room_code": (str, Field("", max_length=24, description="the standard address (room)")),
        "confirm_new": (
            bool,
            Field(False, description="true: not one of the possible duplicates (409) offered"),
        ),
    },
)
PersonPatch = record_schema(
    "person",
    "PersonPatch",
    partial=True,
    extra={"version": (int | None, Field(None, description='or If-Match: "N"'))},
)


@router.post(
    "/people",
    response={201: PersonDetailOut, **CREATE_ERRORS},
    summary="Add a person (409 duplicate / possible_duplicate; 202 when referred to the district)",
    exclude_none=True,
)
def person_create(request: HttpRequest, payload: PersonIn) -> Any:  # type: ignore[valid-type]
    who = actor(request)
    person = services.person_create(
        actor=who,
        values=values_of(payload, exclude=PLACEMENT),
        grid_code=payload.grid_code,  # type: ignore[attr-defined]
        room_code=payload.room_code,  # type: ignore[attr-defined]
        confirm_new=payload.confirm_new,  # type: ignore[attr-defined]
        source="api",
    )
    return Status(201, _detail(who, person))


@router.patch(
    "/people/{person_id}",
    response={200: PersonDetailOut, **LEDGER_WRITE_ERRORS},
    summary="Correct a person (name the version: a stale one is 409 with the fields changed)",
    exclude_none=True,
)
def person_update(request: HttpRequest, person_id: int, payload: PersonPatch) -> Any:  # type: ignore[valid-type]
    who = actor(request)
    person = services.person_update(
        actor=who,
        person_id=person_id,
        version=version_of(request, payload.version),  # type: ignore[attr-defined]
        values=values_of(payload, exclude=PLACEMENT),
    )
    return _detail(who, person)


class PersonMoveIn(VersionIn):
    room_code: str = Field("", max_length=24)
    grid_code: str = Field("", max_length=15)


@router.post(
    "/people/{person_id}/move",
    response={200: PersonDetailOut, **LEDGER_WRITE_ERRORS},
    summary="Move a person to another address or grid",
    exclude_none=True,
)
def person_move(request: HttpRequest, person_id: int, payload: PersonMoveIn) -> Any:
    who = actor(request)
    person = services.person_move(
        actor=who,
        person_id=person_id,
        version=version_of(request, payload.version),
        room_code=payload.room_code,
        grid_code=payload.grid_code,
    )
    return _detail(who, person)


@router.post(
    "/people/{person_id}/retire",
    response={200: PersonDetailOut, **LEDGER_WRITE_ERRORS},
    summary="Retire a person (moved away, deceased, duplicate): the record stays",
    exclude_none=True,
)
def person_retire(request: HttpRequest, person_id: int, payload: RetireIn) -> Any:
    who = actor(request)
    person = services.person_retire(
        actor=who,
        person_id=person_id,
        version=version_of(request, payload.version),
        reason=payload.reason,
        on=payload.on,
        note=payload.note,
    )
    return _detail(who, person)


@router.post(
    "/people/{person_id}/restore",
    response={200: PersonDetailOut, **LEDGER_WRITE_ERRORS},
    summary="Undo a retirement",
    exclude_none=True,
)
def person_restore(request: HttpRequest, person_id: int, payload: VersionIn) -> Any:
    who = actor(request)
    person = services.person_restore(
        actor=who, person_id=person_id, version=version_of(request, payload.version)
    )
    return _detail(who, person)


@router.get(
    "/people/{person_id}/history",
    response={200: list[ChangeOut], **ERRORS},
    summary="Who changed which fields of a person, and when (never the values)",
)
def person_history(request: HttpRequest, person_id: int) -> Any:
    who = actor(request)
    person = selectors.person_get(actor=who, person_id=person_id)
    return selectors.record_history(actor=who, kind="person", record=person)


@router.post(
    "/people/{person_id}/reveal",
    response={200: RevealOut, **WRITE_ERRORS},
    summary="See a full ID number or phone (role and reason required; audited)",
)
def person_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    value = services.person_reveal(
        actor=actor(request), person_id=person_id, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


@router.get(
    "/people.csv",
    response={200: None, **ERRORS},
    summary="Export people in scope as CSV (masked: birth year, masked numbers)",
)
def people_csv(request: HttpRequest, filters: Query[PersonFilter]) -> StreamingHttpResponse:
    if "unmasked" in request.GET:
        raise ValidationFailed(
            _("A full export is a POST with a reason; GET exports are masked."), code="use_post"
        )
    return _csv(services.people_export(actor=actor(request), **_filters(filters)))


class FullExportIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/people.csv",
    response={200: None, **WRITE_ERRORS},
    summary="Export people with full ID numbers and phones (a reason; only people you may "
    "reveal; audited). POST, so that no link can trigger it.",
)
def people_csv_full(
    request: HttpRequest, filters: Query[PersonFilter], payload: FullExportIn
) -> StreamingHttpResponse:
    return _csv(
        services.people_export(
            actor=actor(request), unmasked=True, reason=payload.reason, **_filters(filters)
        )
    )


def _csv(rows: Any) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people.csv"'
    return response


# -- households ------------------------------------------------------------------------------


class HouseholdOut(Schema):
    id: int
    code: str
    grid_code: str
    head_id: int | None
    room_code: str | None = None
    version: int
    members: list[MemberOut]


def _household(who: Any, household_id: int) -> dict[str, Any]:
    household = selectors.household_get(actor=who, household_id=household_id)
    return {
        "id": household.pk,
        "code": household.code,
        "grid_code": household.grid_code,
        "head_id": household.head_id,
        "room_code": household.room.code if household.room else None,
        "version": household.version,
        "members": [
            {"id": m.pk, "name": m.name, "relation": m.relation}
            for m in selectors.household_members(actor=who, household=household)
        ],
    }


class HouseholdIn(Schema):
    code: str = Field(min_length=1, max_length=32, description="the household number")
    head_id: int = Field(ge=1, le=2**63 - 1)
    room_code: str = Field("", max_length=24)


@router.post(
    "/households",
    response={201: HouseholdOut, **LEDGER_WRITE_ERRORS},
    summary="Make a household with its head",
)
def household_create(request: HttpRequest, payload: HouseholdIn) -> Any:
    who = actor(request)
    household = services.household_create(
        actor=who, code=payload.code, head_id=payload.head_id, room_code=payload.room_code
    )
    return Status(201, _household(who, household.pk))


@router.get(
    "/households/{household_id}", response={200: HouseholdOut, **ERRORS}, summary="A household"
)
def household_detail(request: HttpRequest, household_id: int) -> Any:
    return _household(actor(request), household_id)


class MemberIn(VersionIn):
    person_id: int = Field(ge=1, le=2**63 - 1)
    relation: str = Field("", max_length=10)


@router.post(
    "/households/{household_id}/members",
    response={200: HouseholdOut, **LEDGER_WRITE_ERRORS},
    summary="Add a member",
)
def household_add(request: HttpRequest, household_id: int, payload: MemberIn) -> Any:
    who = actor(request)
    services.household_add_member(
        actor=who,
        household_id=household_id,
        version=version_of(request, payload.version),
        person_id=payload.person_id,
        relation=payload.relation,
    )
    return _household(who, household_id)


class PersonRefIn(VersionIn):
    person_id: int = Field(ge=1, le=2**63 - 1)


@router.post(
    "/households/{household_id}/members/remove",
    response={200: HouseholdOut, **LEDGER_WRITE_ERRORS},
    summary="Remove a member (not the head)",
)
def household_remove(request: HttpRequest, household_id: int, payload: PersonRefIn) -> Any:
    who = actor(request)
    services.household_remove_member(
        actor=who,
        household_id=household_id,
        version=version_of(request, payload.version),
        person_id=payload.person_id,
    )
    return _household(who, household_id)


@router.post(
    "/households/{household_id}/head",
    response={200: HouseholdOut, **LEDGER_WRITE_ERRORS},
    summary="Change the head",
)
def household_head(request: HttpRequest, household_id: int, payload: PersonRefIn) -> Any:
    who = actor(request)
    services.household_set_head(
        actor=who,
        household_id=household_id,
        version=version_of(request, payload.version),
        person_id=payload.person_id,
    )
    return _household(who, household_id)
