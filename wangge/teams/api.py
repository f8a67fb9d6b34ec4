from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from wangge.core.api import ERRORS, WRITE_ERRORS, RevealIn, RevealOut, actor
from wangge.core.errors import ValidationFailed
from wangge.core.personal import mask_id_number, mask_phone
from wangge.core.selectors import department_by_code
from wangge.core.tabular import upload_bytes
from wangge.teams import roster, selectors, services
from wangge.teams.models import Assignment, StaffMember, TeamRole

router = Router(tags=["teams"])


class StaffOut(Schema):
    id: int
    name: str
    gender: str
    phone: str = Field(description="masked: 138****1234")
    id_number: str = Field(description="masked: 440704**********123X")
    political_status: str
    employer: str
    department: str | None
    region_code: str

    @staticmethod
    def resolve_phone(obj: StaffMember) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_id_number(obj: StaffMember) -> str:
        return mask_id_number(obj.id_number) if obj.id_number else ""

    @staticmethod
    def resolve_department(obj: StaffMember) -> str | None:
        return obj.department.name if obj.department_id and obj.department else None


class AssignmentOut(Schema):
    id: int
    grid_code: str
    role: str
    staff: StaffOut
    department: str | None
    valid_from: dt.date
    valid_to: dt.date | None

    @staticmethod
    def resolve_department(obj: Assignment) -> str | None:
        return obj.department.name if obj.department_id and obj.department else None


class PartyOrgOut(Schema):
    kind: str
    name: str
    secretary: str | None
    secretary_id: int | None
    parent_name: str

    @staticmethod
    def resolve_secretary(obj: Any) -> str | None:
        return obj.secretary.name if obj.secretary_id else None


class PartyMemberOut(Schema):
    id: int
    name: str
    gender: str
    phone: str
    category: str
    home_organisation: str
    formal: bool
    registered_on: dt.date

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return mask_phone(obj.phone) if obj.phone else ""


class TeamOut(Schema):
    grid_code: str
    grid_name: str
    team: str | None
    members: dict[str, list[AssignmentOut]]
    party_organisation: PartyOrgOut | None
    party_members: list[PartyMemberOut]


@router.get("/teams/coverage", response={200: dict[str, Any], **ERRORS}, summary="Coverage check")
def team_coverage(request: HttpRequest) -> Any:
    return selectors.coverage(actor=actor(request)).as_dict()


@router.get("/teams/{grid_code}", response={200: TeamOut, **ERRORS}, summary="A grid's team")
def team_detail(request: HttpRequest, grid_code: str) -> Any:
    view = selectors.team_get(actor=actor(request), grid_code=grid_code)
    return {
        "grid_code": view.grid.code,
        "grid_name": view.grid.name,
        "team": view.team.name if view.team else None,
        "members": view.members,
        "party_organisation": view.party_org,
        "party_members": view.party_members,
    }


@router.get(
    "/teams/{grid_code}/history",
    response={200: list[AssignmentOut], **ERRORS},
    summary="Every assignment of a grid, current and past",
)
def team_history(request: HttpRequest, grid_code: str) -> Any:
    return selectors.team_history(actor=actor(request), grid_code=grid_code)


class LeaderOut(Schema):
    grid_code: str
    date: dt.date
    leader: StaffOut | None


@router.get(
    "/teams/{grid_code}/leader",
    response={200: LeaderOut, **ERRORS},
    summary="Who led the grid on a date",
)
def team_leader(request: HttpRequest, grid_code: str, date: dt.date) -> Any:
    staff = selectors.leader_on(actor=actor(request), grid_code=grid_code, day=date)
    return {"grid_code": grid_code, "date": date, "leader": staff}


class StaffIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    gender: Literal["male", "female", ""] = ""
    phone: str = ""
    id_number: str = ""
    political_status: str = ""
    employer: str = ""
    department: str | None = Field(None, description="department code, e.g. chengguan")


class AssignmentIn(Schema):
    role: TeamRole
    valid_from: dt.date
    staff_id: int | None = None
    staff: StaffIn | None = None
    department: str | None = Field(None, description="department code (specialists)")


def _staff_data(data: StaffIn) -> services.StaffData:
    from wangge.core.validators import InvalidCode, parse_id_number, parse_mobile

    try:
        id_number = parse_id_number(data.id_number).value if data.id_number else ""
        phone = parse_mobile(data.phone) if data.phone else ""
    except InvalidCode as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    return services.StaffData(
        name=data.name,
        gender=data.gender,
        phone=phone,
        id_number=id_number,
        political_status=data.political_status,
        employer=data.employer,
        department=department_by_code(data.department),
    )


@router.post(
    "/teams/{grid_code}/assignments",
    response={201: AssignmentOut, **WRITE_ERRORS},
    summary="Put a person (existing or new) into a grid's team",
)
def assignment_create(request: HttpRequest, grid_code: str, payload: AssignmentIn) -> Any:
    who = actor(request)
    department = department_by_code(payload.department)
    if payload.staff_id is not None:
        assignment, _created = services.assignment_start(
            actor=who,
            staff=selectors.staff_get(actor=who, staff_id=payload.staff_id),
            grid_code=grid_code,
            role=payload.role,
            valid_from=payload.valid_from,
            department=department,
        )
    elif payload.staff is not None:
        assignment = services.staff_assign(
            actor=who,
            grid_code=grid_code,
            data=_staff_data(payload.staff),
            role=payload.role,
            valid_from=payload.valid_from,
            department=department,
        ).assignment
    else:
        raise ValidationFailed(_("Give staff_id or staff."), code="staff_required")
    return Status(201, assignment)


class EndIn(Schema):
    valid_to: dt.date


@router.post(
    "/assignments/{assignment_id}/end",
    response={200: AssignmentOut, **WRITE_ERRORS},
    summary="End an assignment (history is kept)",
)
def assignment_end(request: HttpRequest, assignment_id: int, payload: EndIn) -> Any:
    return services.assignment_end(
        actor=actor(request), assignment_id=assignment_id, valid_to=payload.valid_to
    )


class PartyOrgIn(Schema):
    kind: Literal["branch", "group"]
    name: str = Field(min_length=1, max_length=100)
    secretary_id: int | None = None
    parent_name: str = ""


@router.put(
    "/teams/{grid_code}/party-organisation",
    response={200: PartyOrgOut, **WRITE_ERRORS},
    summary="Set the grid's party branch or group",
)
def party_org_put(request: HttpRequest, grid_code: str, payload: PartyOrgIn) -> Any:
    who = actor(request)
    secretary = (
        selectors.staff_get(actor=who, staff_id=payload.secretary_id)
        if payload.secretary_id
        else None
    )
    org, _changed = services.party_org_save(
        actor=who,
        grid_code=grid_code,
        kind=payload.kind,
        name=payload.name,
        secretary=secretary,
        parent_name=payload.parent_name,
    )
    return org


class StaffPage(Schema):
    count: int
    items: list[StaffOut]


class StaffFilter(Schema):
    q: str = Field("", description="name, or a full ID number or phone (exact)")
    grid: str = Field("", description="grid or region code prefix")
    role: TeamRole | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("/staff", response={200: StaffPage, **ERRORS}, summary="Staff directory")
def staff_list(request: HttpRequest, filters: Query[StaffFilter]) -> Any:
    qs = selectors.staff_list(
        actor=actor(request),
        q=filters.q,
        grid_code=filters.grid,
        role=filters.role.value if filters.role else "",
    )
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


@router.get("/staff/{staff_id}", response={200: StaffOut, **ERRORS}, summary="One person")
def staff_detail(request: HttpRequest, staff_id: int) -> Any:
    return selectors.staff_get(actor=actor(request), staff_id=staff_id)


@router.post(
    "/staff/{staff_id}/reveal",
    response={200: RevealOut, **WRITE_ERRORS},
    summary="See a full phone or ID number (role and reason required; audited)",
)
def staff_reveal(request: HttpRequest, staff_id: int, payload: RevealIn) -> Any:
    value = services.staff_reveal(
        actor=actor(request), staff_id=staff_id, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


def _xlsx(data: bytes) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="roster.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/teams-roster.xlsx",
    response={200: None, **ERRORS},
    summary="Export the rosters in scope, phones and ID numbers masked",
)
def roster_export(request: HttpRequest) -> HttpResponse:
    return _xlsx(roster.roster_export(actor=actor(request)))


class UnmaskedExportIn(Schema):
    reason: str = Field(min_length=1, max_length=500, description="why (audited)")


@router.post(
    "/teams-roster.xlsx",
    response={200: None, **WRITE_ERRORS},
    summary="Export the rosters in full (personal.reveal and a reason; audited)",
    description="Holds only the rows a grant holding personal.reveal covers. A POST, so that a "
    "browser session needs the CSRF token: another site cannot start it.",
)
def roster_export_unmasked(request: HttpRequest, payload: UnmaskedExportIn) -> HttpResponse:
    return _xlsx(roster.roster_export(actor=actor(request), unmasked=True, reason=payload.reason))


class RosterImportOut(Schema):
    total: int
    inserted: int
    updated: int
    skipped: int
    rejected: int
    dry_run: bool
    stored: bool
    errors: list[dict[str, Any]]


@router.post(
    "/teams-roster",
    response={200: RosterImportOut, **WRITE_ERRORS},
    summary="Import a roster workbook (all or nothing unless partial=true)",
)
def roster_import(
    request: HttpRequest,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    partial: Form[bool] = False,
) -> Any:
    result = roster.roster_import(
        actor=actor(request),
        data=upload_bytes(file),
        filename=file.name or "roster.xlsx",
        dry_run=dry_run,
        all_or_nothing=not partial,
    )
    return result.as_dict()
