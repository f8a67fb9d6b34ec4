from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from wangge.core.api import (
    ERRORS,
    WRITE_ERRORS,
    JobFields,
    RevealIn,
    RevealOut,
    actor,
    job_out,
    reveal_response,
)
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.personal import mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.ledger import jobs as ledger_jobs
from wangge.ledger import selectors, services
from wangge.ledger.models import Organisation

router = Router(tags=["ledger"])


class PersonOut(Schema):
    id: int
    grid_code: str
    name: str
    gender: str
    birth_date: dt.date | None
    id_number: str = Field(description="masked: 440704**********123X")
    phone: str = Field(description="masked: 138****1234")
    population_type: str
    separated: bool
    current_address: str
    care_tags: list[str]
    household_id: int | None
    relation: str

    # Resolvers also accept the already-masked dict the detail endpoint builds.
    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        if isinstance(obj, dict):
            return str(obj["id_number"])
        return mask_id_number(obj.id_number) if obj.id_number else ""

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        if isinstance(obj, dict):
            return str(obj["phone"])
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_care_tags(obj: Any) -> list[str]:
        if isinstance(obj, dict):
            return list(obj["care_tags"])
        return list(obj.care_tag_list())


class PersonPage(Schema):
    count: int
    items: list[PersonOut]
    next_after: int | None = Field(None, description="pass as `after` for the next page")


class PersonFilter(Schema):
    q: str = Field("", description="name prefix, or a full ID number or phone (exact)")
    grid: str = Field("", description="region code prefix")
    care_tag: str = ""
    special_tag: str = Field("", description="needs ledger.sensitive; else matches nobody")
    address: str = ""
    limit: int = Field(50, ge=1, le=500)
    after: int | None = Field(None, description="keyset pagination: the last id seen")


@router.get("/people", response={200: PersonPage, **ERRORS}, summary="People in scope")
def people(request: HttpRequest, filters: Query[PersonFilter]) -> Any:
    who = actor(request)
    if not who.has(Perm.LEDGER_VIEW):
        raise NotFound()
    qs = selectors.person_list(
        actor=who,
        q=filters.q,
        grid=filters.grid,
        care_tag=filters.care_tag,
        special_tag=filters.special_tag,
        address=filters.address,
    ).order_by("id")
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
    move_in: dt.date | None = None
    expected_leave: dt.date | None = None
    employer: str
    occupation: str
    address_code: str | None = None
    household: list[MemberOut]
    special_tags: list[str] | None = Field(
        None, description="present only for roles allowed to see special groups"
    )


@router.get(
    "/people/{person_id}",
    response={200: PersonDetailOut, **ERRORS},
    summary="One person (every view is audited)",
    exclude_none=True,
)
def person_detail(request: HttpRequest, person_id: int) -> Any:
    who = actor(request)
    person = selectors.person_get(actor=who, person_id=person_id)
    services.person_viewed(actor=who, person=person, via="api")
    data = PersonOut.from_orm(person).dict()
    data.update(
        ethnicity=person.ethnicity,
        registered_address=person.registered_address,
        move_in=person.move_in,
        expected_leave=person.expected_leave,
        employer=person.employer,
        occupation=person.occupation,
        address_code=person.room.code if person.room else None,
        household=[
            {"id": m.pk, "name": m.name, "relation": m.relation}
            for m in selectors.person_household(actor=who, person=person)
        ],
        special_tags=selectors.person_special_tags(actor=who, person=person),
    )
    return data


@router.post(
    "/people/{person_id}/reveal",
    response={200: RevealOut, **WRITE_ERRORS},
    summary="See a full ID number or phone (role and reason required; audited)",
)
def person_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    who = actor(request)
    person = selectors.person_get(actor=who, person_id=person_id)
    return reveal_response(who=who, obj=person, object_type="person", payload=payload)


@router.get(
    "/people.csv",
    response={200: None, **WRITE_ERRORS},
    summary="Export people in scope as CSV (masked unless unmasked=true with a reason)",
)
def people_csv(
    request: HttpRequest, filters: Query[PersonFilter], unmasked: bool = False, reason: str = ""
) -> StreamingHttpResponse:
    who = actor(request)
    if not who.has(Perm.LEDGER_VIEW):
        raise NotFound()
    qs = selectors.person_list(
        actor=who,
        q=filters.q,
        grid=filters.grid,
        care_tag=filters.care_tag,
        special_tag=filters.special_tag,
        address=filters.address,
    )
    rows = services.people_export_rows(actor=who, people=qs, unmasked=unmasked, reason=reason)
    first = next(rows)  # runs the permission check and the audit entry before streaming
    response = StreamingHttpResponse(_chain(first, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people.csv"'
    return response


def _chain(first: str, rest: Any) -> Any:
    yield first
    yield from rest


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
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    who = actor(request)
    if not who.has(Perm.LEDGER_VIEW):
        raise NotFound()
    qs = selectors.organisation_list(actor=who, q=q, kind=kind, grid=grid)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **ERRORS},
    summary="One organisation",
)
def organisation_detail(request: HttpRequest, organisation_id: int) -> Any:
    return selectors.organisation_get(actor=actor(request), organisation_id=organisation_id)


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
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    who = actor(request)
    if not who.has(Perm.THINGS_VIEW):
        raise NotFound()
    qs = selectors.thing_list(actor=who, major=major, minor=minor, state=state, grid=grid)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get(
    "/ledger/map.geojson",
    response={200: dict[str, Any], **ERRORS},
    summary="Things and buildings in scope",
)
def ledger_map(request: HttpRequest, bbox: str = "") -> Any:
    who = actor(request)
    if not who.has(Perm.THINGS_VIEW):
        raise NotFound()
    box = None
    if bbox:
        try:
            parts = [float(v) for v in bbox.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4:
            raise ValidationFailed("bbox needs four numbers", code="invalid")
        box = (parts[0], parts[1], parts[2], parts[3])
    return selectors.map_features(actor=who, bbox=box)


@router.get(
    "/ledger/counts", response={200: dict[str, int], **ERRORS}, summary="Ledger counts in scope"
)
def ledger_counts(request: HttpRequest) -> Any:
    who = actor(request)
    if not (who.has(Perm.LEDGER_VIEW) or who.has(Perm.THINGS_VIEW)):
        raise NotFound()
    return selectors.ledger_counts(actor=who)


class ImportOut(Schema):
    kind: str
    total: int
    inserted: int
    updated: int
    skipped: int
    rejected: int
    dry_run: bool
    stored: bool
    overridden: int
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class ImportJobOut(JobFields):
    result: ImportOut | None = Field(None, description="when done: the import's accounting")


class ImportJobEnvelope(Schema):
    job: ImportJobOut


@router.post(
    "/ledger/import/{kind}",
    response={202: ImportJobEnvelope, **WRITE_ERRORS},
    summary="Queue an import of people, organisations, addresses or things (CSV or XLSX)",
    description="The file is checked (size, type, a workbook's zip directory) and queued; a "
    "worker imports it. Follow `Location` (GET /jobs/{job_id}) for its progress and result.",
)
def ledger_import(
    request: HttpRequest,
    response: HttpResponse,
    kind: Literal["people", "organisations", "addresses", "things"],
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    on_duplicate: Form[Literal["skip", "update"]] = "skip",
) -> Any:
    job = ledger_jobs.queue_import(
        user=request.user, kind=kind, upload=file, dry_run=dry_run, on_duplicate=on_duplicate
    )
    response["Location"] = reverse("api:job", kwargs={"job_id": job.pk})
    return Status(202, {"job": job_out(job)})
