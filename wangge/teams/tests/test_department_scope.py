"""Security finding 6: what a department grant sees of teams.

A 城管 officer (demo-dept, district-wide, narrowed to 城管) sees the specialist grid workers 城管
sent and their assignments — in the staff directory, the API, the roster export and the coverage
counts — and no grid team, party organisation or party member at all: team pages are 404.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db.models import Q
from openpyxl import load_workbook

from wangge.teams.models import Assignment, StaffMember, TeamRole

pytestmark = pytest.mark.django_db

MINE = "440704003001001"


def _chengguan_staff() -> set[int]:
    sent = Assignment.objects.dangerously_unscoped().filter(
        valid_to=None, department__code="chengguan"
    )
    return set(
        StaffMember.objects.dangerously_unscoped()
        .filter(Q(department__code="chengguan") | Q(pk__in=sent.values("staff_id")))
        .values_list("pk", flat=True)
    )


def _chengguan_assignments() -> int:
    return (
        Assignment.objects.dangerously_unscoped()
        .filter(valid_to=None, department__code="chengguan")
        .count()
    )


def _leader_of_mine() -> StaffMember:
    return (
        Assignment.objects.dangerously_unscoped()
        .get(grid_code=MINE, role=TeamRole.LEADER, valid_to=None)
        .staff
    )


@pytest.mark.parametrize(
    "url",
    [
        f"/teams/grid/{MINE}/",
        f"/teams/grid/{MINE}/card/",
        f"/teams/grid/{MINE}/history/?date=2022-04-19",
    ],
)
def test_team_pages_do_not_exist_for_a_department(client_as: Any, url: str) -> None:
    response = client_as("demo-dept").get(url)
    assert response.status_code == 404
    assert _leader_of_mine().name not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/teams/{MINE}",
        f"/api/v1/teams/{MINE}/history",
        f"/api/v1/teams/{MINE}/leader?date=2022-04-19",
    ],
)
def test_team_endpoints_do_not_exist_for_a_department(api_as: Any, url: str) -> None:
    response = api_as("demo-dept").get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_department_may_not_set_a_party_organisation(api_as: Any) -> None:
    response = api_as("demo-dept").put(
        f"/api/v1/teams/{MINE}/party-organisation",
        {"kind": "group", "name": "城管改的"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_staff_directory_holds_the_departments_specialists_only(
    client_as: Any, api_as: Any
) -> None:
    expected = _chengguan_staff()
    assert expected  # the test world sends 城管 specialists to several grids

    body = api_as("demo-dept").get("/api/v1/staff?limit=500").json()

    assert {s["id"] for s in body["items"]} == expected
    assert body["count"] == len(expected)
    page = client_as("demo-dept").get("/teams/staff/").content.decode()
    for person in StaffMember.objects.dangerously_unscoped().filter(pk__in=expected):
        assert person.name in page
    assert _leader_of_mine().name not in page


def test_staff_page_of_a_specialist_but_not_of_the_registry(client_as: Any) -> None:
    specialist = (
        Assignment.objects.dangerously_unscoped()
        .get(grid_code=MINE, role=TeamRole.SPECIALIST, valid_to=None)
        .staff
    )
    client = client_as("demo-dept")
    assert client.get(f"/teams/staff/{specialist.pk}/").status_code == 200
    assert client.get(f"/teams/staff/{_leader_of_mine().pk}/").status_code == 404


def test_coverage_counts_the_departments_specialists_and_no_teams(
    client_as: Any, api_as: Any
) -> None:
    body = api_as("demo-dept").get("/api/v1/teams/coverage").json()

    assert (body["grids"], body["teams"]) == (0, 0)
    assert (body["party_organisations"], body["party_members"]) == (0, 0)
    assert body["workers"] == {
        "leader": 0,
        "full_time": 0,
        "specialist": _chengguan_assignments(),
        "part_time": 0,
    }
    assert body["problems"] == [] and body["by_street"] == {} and body["by_community"] == {}
    assert client_as("demo-dept").get("/teams/").status_code == 200


def _sheets(data: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(data))
    return {
        name: [[c.value for c in row] for row in book[name].iter_rows(min_row=2)]
        for name in ("网格员", "党组织", "党员")
    }


def test_roster_export_holds_only_the_departments_specialists(client_as: Any, api_as: Any) -> None:
    for response in (
        client_as("demo-dept").get("/teams/roster/export.xlsx"),
        api_as("demo-dept").get("/api/v1/teams-roster.xlsx"),
    ):
        assert response.status_code == 200
        sheets = _sheets(response.content)
        staff = sheets["网格员"]
        assert len(staff) == _chengguan_assignments()
        assert {(row[2], row[9]) for row in staff} == {("专业网格员", "城管")}
        assert sheets["党组织"] == [] and sheets["党员"] == []


def _specialist_assignment() -> Assignment:
    return Assignment.objects.dangerously_unscoped().get(
        grid_code=MINE, role=TeamRole.SPECIALIST, valid_to=None
    )


def test_department_writes_nothing_to_teams(client_as: Any, api_as: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wangge.core.models import AuditEntry
    from wangge.teams.tests.test_roster import GOOD, _workbook

    sent = _specialist_assignment()
    api, page = api_as("demo-dept"), client_as("demo-dept")
    audit_before = AuditEntry.objects.count()
    person = {"name": "城管派人", "id_number": "11010519491231002X"}

    answers = [
        api.post(
            f"/api/v1/teams/{MINE}/assignments",
            {"role": "specialist", "valid_from": "2026-11-01", "staff": person},
            content_type="application/json",
        ),
        api.post(
            f"/api/v1/assignments/{sent.pk}/end",
            {"valid_to": "2026-11-30"},
            content_type="application/json",
        ),
        api.post("/api/v1/teams-roster", {"file": SimpleUploadedFile("r.xlsx", _workbook([GOOD]))}),
        page.post(f"/teams/assignments/{sent.pk}/end/", {"valid_to": "2026-11-30"}),
        page.post(
            "/teams/roster/",
            {"file": SimpleUploadedFile("r.xlsx", _workbook([GOOD])), "partial": "on"},
        ),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    sent.refresh_from_db()
    assert sent.valid_to is None
    assert (
        not StaffMember.objects.dangerously_unscoped()
        .filter(name__in=["城管派人", "黎明"])
        .exists()
    )
    assert AuditEntry.objects.count() == audit_before


def test_department_may_not_reveal_or_unmask(client_as: Any, api_as: Any) -> None:
    specialist = _specialist_assignment().staff
    api = api_as("demo-dept")
    assert api.get(f"/api/v1/staff/{specialist.pk}").status_code == 200
    assert api.get(f"/api/v1/staff/{_leader_of_mine().pk}").status_code == 404
    reveal = api.post(
        f"/api/v1/staff/{specialist.pk}/reveal",
        {"field": "phone", "reason": "核实电话"},
        content_type="application/json",
    )
    assert reveal.status_code == 403 and specialist.phone not in reveal.content.decode()
    unmasked = api.post(
        "/api/v1/teams-roster.xlsx", {"reason": "核对名册"}, content_type="application/json"
    )
    assert unmasked.status_code == 403 and not unmasked.content.startswith(b"PK")
    page = client_as("demo-dept").get("/teams/roster/").content.decode()
    assert 'name="reason"' not in page and 'type="file"' not in page
    staff_page = client_as("demo-dept").get(f"/teams/staff/{specialist.pk}/").content.decode()
    assert 'name="reason"' not in staff_page and specialist.phone not in staff_page
