"""Security finding 4: an ID number that belongs to someone outside the actor's scope.

A community officer adding a person to their own grid with the ID number of a staff member
registered in another street must neither rename, re-phone nor assign that person, nor learn
that they exist: the API, the team page and the roster import all go through
`services.staff_assign`, which looks the number up inside the actor's `teams.edit` scope only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry
from wangge.core.scope import scope_for
from wangge.teams import roster, services
from wangge.teams.models import Assignment, StaffMember, TeamRole
from wangge.teams.tests.test_roster import GOOD, _workbook

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # demo-community's community (英南村)
OTHER = "440704001001001"  # 江南街道: another street


def _outsider() -> StaffMember:
    """A full-time worker registered and serving in another street."""
    return (
        Assignment.objects.dangerously_unscoped()
        .select_related("staff")
        .get(grid_code=OTHER, role=TeamRole.FULL_TIME, valid_to=None)
        .staff
    )


def _unchanged(person: StaffMember) -> None:
    fresh = StaffMember.objects.dangerously_unscoped().get(pk=person.pk)
    assert (fresh.name, fresh.phone, fresh.region_code) == (
        person.name,
        person.phone,
        person.region_code,
    )
    assert (
        not Assignment.objects.dangerously_unscoped().filter(staff=person, grid_code=MINE).exists()
    )


def _refusal_audited(person: StaffMember) -> None:
    entry = AuditEntry.objects.filter(action="staff.assign", outcome="denied").order_by("-seq")[0]
    assert entry.actor_name == "demo-community"
    assert entry.details == {"grid": MINE, "reason": "id_number_outside_scope"}
    # The auditor learns who it was; the person asking did not.
    assert entry.object_id == str(person.pk)


def _refusal_text() -> str:
    with translation.override("zh-hans"):
        return str(services.NotRegistrableHere.default_message)


def _discloses(text: str, person: StaffMember) -> bool:
    """Whether an answer names the person, their phone, where they are registered, or links to
    them (the ID number itself is the asker's own input)."""
    signs = (person.name, person.phone, person.region_code, f"/staff/{person.pk}/")
    return any(sign in text for sign in signs)


def test_api_does_not_overwrite_or_disclose_a_person_outside_scope(api_as: Any) -> None:
    person = _outsider()
    payload = {
        "role": "part_time",
        "valid_from": "2026-11-01",
        "staff": {"id_number": person.id_number, "name": "改名", "phone": "13700000001"},
    }

    response = api_as("demo-community").post(
        f"/api/v1/teams/{MINE}/assignments", payload, content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "id_number_not_here"
    assert body["details"] is None
    assert not _discloses(response.content.decode(), person)
    _unchanged(person)
    _refusal_audited(person)
    # Nor can the officer see (or so reveal) them afterwards.
    assert api_as("demo-community").get(f"/api/v1/staff/{person.pk}").status_code == 404


def test_team_page_does_not_overwrite_or_disclose_a_person_outside_scope(client_as: Any) -> None:
    person = _outsider()
    form = {
        "role": "part_time",
        "name": "改名",
        "gender": "",
        "id_number": person.id_number,
        "phone": "13700000001",
        "political_status": "",
        "employer": "",
        "department": "",
        "valid_from": "2026-11-01",
    }

    response = client_as("demo-community").post(f"/teams/grid/{MINE}/", form)

    assert response.status_code == 200
    page = response.content.decode()
    assert _refusal_text() in page
    assert not _discloses(page, person)
    _unchanged(person)
    _refusal_audited(person)


def test_roster_import_rejects_the_row_and_keeps_the_refusal_in_the_audit(
    api_as: Any,
) -> None:
    person = _outsider()
    row = list(GOOD)
    row[0], row[3], row[5], row[6] = MINE, "改名", person.id_number, "13700000001"
    upload = SimpleUploadedFile("r.xlsx", _workbook([row]))

    body = (
        api_as("demo-community")
        .post("/api/v1/teams-roster", {"file": upload, "partial": "true"})
        .json()
    )

    assert (body["total"], body["inserted"], body["rejected"]) == (1, 0, 1)
    assert body["errors"] == [
        {
            "row": 2,
            "column": "身份证号",
            "code": "id_number_not_here",
            "message": _refusal_text(),
            "sheet": "网格员",
        }
    ]
    assert not _discloses(str(body), person)
    _unchanged(person)
    # The row's work was rolled back, its refusal was not.
    _refusal_audited(person)


def test_a_person_inside_scope_is_found_and_updated(user: Any) -> None:
    officer = scope_for(user("demo-community"))
    person = (
        Assignment.objects.dangerously_unscoped()
        .select_related("staff")
        .get(grid_code="440704003001002", role=TeamRole.FULL_TIME, valid_to=None)
        .staff
    )
    data = services.StaffData(name="新名字", id_number=person.id_number, phone="13700000002")

    done = services.staff_assign(
        actor=officer,
        grid_code=MINE,
        data=data,
        role=TeamRole.PART_TIME,
        valid_from=dt.date(2026, 11, 1),
    )

    assert done.assignment.staff_id == person.pk and done.created
    assert set(done.changed) >= {"name", "phone"}
    fresh = StaffMember.objects.dangerously_unscoped().get(pk=person.pk)
    assert (fresh.name, fresh.phone) == ("新名字", "13700000002")


def test_a_new_person_is_registered_in_the_grids_community(user: Any) -> None:
    officer = scope_for(user("demo-community"))
    data = services.StaffData(name="新人", id_number="11010519491231002X")

    done = services.staff_assign(
        actor=officer,
        grid_code=MINE,
        data=data,
        role=TeamRole.PART_TIME,
        valid_from=dt.date(2026, 11, 1),
    )

    assert done.created and done.changed == list(services.STAFF_FIELDS)
    assert done.assignment.staff.region_code == MINE[:12]


def test_staff_assign_checks_the_edit_grant_over_the_grid(user: Any) -> None:
    data = services.StaffData(name="越权", id_number="11010519491231002X")
    args: dict[str, Any] = {
        "data": data,
        "role": TeamRole.PART_TIME,
        "valid_from": dt.date(2026, 11, 1),
    }
    # A grid leader sees the team but may not change it; another street's team does not exist
    # for a community officer; a department officer sees no team at all.
    with pytest.raises(PermissionDenied):
        services.staff_assign(actor=scope_for(user("demo-grid")), grid_code=MINE, **args)
    with pytest.raises(NotFound):
        services.staff_assign(actor=scope_for(user("demo-community")), grid_code=OTHER, **args)
    with pytest.raises(NotFound):
        services.staff_assign(actor=scope_for(user("demo-dept")), grid_code=MINE, **args)
    assert not StaffMember.objects.dangerously_unscoped().filter(name="越权").exists()


def test_assigning_an_existing_person_needs_them_in_the_edit_scope(user: Any) -> None:
    # Picking a person by id (the API's staff_id) is the same rule as finding them by number.
    officer = scope_for(user("demo-community"))
    with pytest.raises(NotFound):
        services.assignment_start(
            actor=officer,
            staff=_outsider(),
            grid_code=MINE,
            role=TeamRole.PART_TIME,
            valid_from=dt.date(2026, 11, 1),
        )


def test_team_ensure_checks_the_edit_grant(user: Any) -> None:
    # The issue: "team_ensure and grant_create check nothing".
    with pytest.raises(PermissionDenied):
        services.team_ensure(actor=scope_for(user("demo-grid")), grid_code=MINE)
    with pytest.raises(NotFound):
        services.team_ensure(actor=scope_for(user("demo-community")), grid_code=OTHER)
    team = services.team_ensure(actor=scope_for(user("demo-community")), grid_code=MINE)
    assert team.grid_code == MINE


def test_unknown_grid_is_refused(system: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        services.staff_assign(
            actor=system,
            grid_code="440704003001999",
            data=services.StaffData(name="无处", id_number="11010519491231002X"),
            role=TeamRole.PART_TIME,
            valid_from=dt.date(2026, 11, 1),
        )
    assert info.value.code == "unknown_grid"


def test_roster_rows_outside_the_edit_scope_are_rejected_with_row_and_column(
    user: Any,
) -> None:
    officer = scope_for(user("demo-community"))
    outside = list(GOOD)
    outside[0] = OTHER
    inside = list(GOOD)
    inside[0] = MINE

    result = roster.roster_import(
        actor=officer, data=_workbook([inside, outside]), filename="r.xlsx", dry_run=True
    )

    assert (result.total, result.inserted, result.rejected) == (2, 1, 1)
    error = result.errors[0]
    assert (error.row, error.column, error.code) == (3, "网格编码", "unknown_grid")


def test_roster_import_needs_the_edit_role(user: Any) -> None:
    with pytest.raises(NotFound):
        roster.roster_import(
            actor=scope_for(user("demo-grid")), data=_workbook([GOOD]), filename="r.xlsx"
        )


def test_team_page_adds_a_specialist_with_the_department_that_sent_them(
    client_as: Any,
) -> None:
    form = {
        "role": "specialist",
        "name": "城管专员",
        "gender": "male",
        "id_number": "11010519491231002X",
        "phone": "13700000003",
        "political_status": "masses",
        "employer": "区城管局",
        "department": "chengguan",
        "valid_from": "2026-11-01",
    }

    response = client_as("demo-community").post(f"/teams/grid/{MINE}/", form)

    assert response.status_code == 302
    assignment = Assignment.objects.dangerously_unscoped().get(
        grid_code=MINE, staff__name="城管专员", valid_to=None
    )
    assert (assignment.role, assignment.department.code) == ("specialist", "chengguan")
    assert assignment.staff.department.code == "chengguan"
    # An unknown department is a form error, not a crash.
    form["department"], form["name"] = "nosuch", "无部门"
    again = client_as("demo-community").post(f"/teams/grid/{MINE}/", form)
    assert again.status_code == 200
    assert not StaffMember.objects.dangerously_unscoped().filter(name="无部门").exists()
