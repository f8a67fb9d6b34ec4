"""Authorisation matrix for every teams page and endpoint: anonymous, out of scope, in scope
without the role, in scope with it."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import AuditEntry, User
from wangge.teams.models import Assignment, StaffMember

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # 英南村 grid 1
OTHER = "440704001001001"  # 江南街道


def _staff_in(grid: str) -> StaffMember:
    return Assignment.objects.dangerously_unscoped().filter(grid_code=grid, valid_to=None)[0].staff


PAGES = [
    "/teams/",
    "/teams/staff/",
    "/teams/roster/",
    "/teams/roster/template.xlsx",
    "/teams/roster/export.xlsx",
    f"/teams/grid/{MINE}/",
    f"/teams/grid/{MINE}/card/",
    f"/teams/grid/{MINE}/history/?date=2022-04-19",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_anonymous_go_to_login(client_as: Any, url: str) -> None:
    response = client_as(None).get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_in_scope(client_as: Any, url: str) -> None:
    assert client_as("demo-community").get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/teams/grid/{OTHER}/",
        f"/teams/grid/{OTHER}/card/",
        f"/teams/grid/{OTHER}/history/",
        "/teams/grid/440704009009009/",
    ],
)
def test_pages_out_of_scope_are_404(client_as: Any, url: str) -> None:
    assert client_as("demo-community").get(url).status_code == 404


def test_staff_page_out_of_scope_is_404(client_as: Any) -> None:
    other = _staff_in(OTHER)
    assert client_as("demo-community").get(f"/teams/staff/{other.pk}/").status_code == 404
    mine = _staff_in(MINE)
    assert client_as("demo-community").get(f"/teams/staff/{mine.pk}/").status_code == 200


def test_team_page_masks_phones(client_as: Any) -> None:
    staff = _staff_in(MINE)
    body = client_as("demo-community").get(f"/teams/grid/{MINE}/").content.decode()
    assert staff.name in body
    assert staff.phone not in body
    assert f"{staff.phone[:3]}****{staff.phone[-4:]}" in body


def test_community_officer_edits_its_team_and_it_is_audited(client_as: Any) -> None:
    client = client_as("demo-community")
    form = {
        "role": "part_time",
        "name": "新兼职",
        "gender": "female",
        "id_number": "11010519491231002X",
        "phone": "13912345678",
        "political_status": "masses",
        "employer": "",
        "department": "",
        "valid_from": "2026-11-01",
    }
    response = client.post(f"/teams/grid/{MINE}/", form)
    assert response.status_code == 302
    assert (
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code=MINE, staff__name="新兼职", valid_to=None)
        .exists()
    )
    assert AuditEntry.objects.filter(
        action="assignment.start", actor_name="demo-community"
    ).exists()
    # Another community's team: 404, and nothing stored.
    form["name"] = "越权"
    assert client.post(f"/teams/grid/{OTHER}/", form).status_code == 404
    assert not StaffMember.objects.dangerously_unscoped().filter(name="越权").exists()


def test_grid_leader_may_view_but_not_edit(client_as: Any) -> None:
    client = client_as("demo-grid")
    page = client.get(f"/teams/grid/{MINE}/")
    assert page.status_code == 200 and 'name="id_number"' not in page.content.decode()
    # It sees the team, so a change is refused as forbidden, even before the form is checked.
    response = client.post(f"/teams/grid/{MINE}/", {"role": "part_time", "name": "x"})
    assert response.status_code == 403


def test_grid_leader_may_not_end_an_assignment(client_as: Any) -> None:
    mine = Assignment.objects.dangerously_unscoped().filter(grid_code=MINE, role="part_time")[0]
    response = client_as("demo-grid").post(
        f"/teams/assignments/{mine.pk}/end/", {"valid_to": "2026-11-30"}
    )
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.valid_to is None


def test_end_assignment_out_of_scope_is_404(client_as: Any) -> None:
    other = Assignment.objects.dangerously_unscoped().filter(grid_code=OTHER, role="part_time")[0]
    response = client_as("demo-community").post(
        f"/teams/assignments/{other.pk}/end/", {"valid_to": "2026-11-30"}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.valid_to is None


def test_reveal_needs_reason_and_role_and_is_audited(client_as: Any) -> None:
    staff = _staff_in(MINE)
    client = client_as("demo-community")
    response = client.post(
        f"/teams/staff/{staff.pk}/reveal/", {"field": "phone", "reason": "核实电话"}
    )
    assert response.status_code == 200
    assert staff.phone in response.content.decode()
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert entry.details == {"field": "phone", "reason": "核实电话"}
    assert entry.object_id == str(staff.pk) and entry.outcome == "success"
    # The next view is masked again.
    assert staff.phone not in client.get(f"/teams/staff/{staff.pk}/").content.decode()


# -- API ---------------------------------------------------------------------------------------


def test_api_anonymous_401(api_as: Any) -> None:
    for url in (f"/api/v1/teams/{MINE}", "/api/v1/staff", "/api/v1/teams/coverage"):
        assert api_as(None).get(url).status_code == 401


def test_api_team_in_and_out_of_scope(api_as: Any) -> None:
    client = api_as("demo-street")
    body = client.get(f"/api/v1/teams/{MINE}").json()
    assert len(body["members"]["leader"]) == 1
    assert "****" in body["members"]["leader"][0]["staff"]["phone"]
    assert client.get(f"/api/v1/teams/{OTHER}").status_code == 404
    assert client.get(f"/api/v1/teams/{OTHER}/history").status_code == 404
    assert client.get(f"/api/v1/teams/{OTHER}/leader?date=2022-04-19").status_code == 404


def test_api_leader_on_date(api_as: Any) -> None:
    client = api_as("demo-grid")
    before = client.get(f"/api/v1/teams/{MINE}/leader?date=2022-04-19").json()["leader"]
    after = client.get(f"/api/v1/teams/{MINE}/leader?date=2022-05-01").json()["leader"]
    assert before["id"] != after["id"]


def test_api_staff_search_by_full_id_number(api_as: Any) -> None:
    staff = _staff_in(MINE)
    client = api_as("demo-community")
    body = client.get(f"/api/v1/staff?q={staff.id_number.lower()}").json()
    assert [s["id"] for s in body["items"]] == [staff.pk]
    other = _staff_in(OTHER)
    assert client.get(f"/api/v1/staff?q={other.id_number}").json()["count"] == 0
    assert client.get(f"/api/v1/staff/{other.pk}").status_code == 404


def test_api_staff_list_is_scoped(api_as: Any) -> None:
    body = api_as("demo-grid").get("/api/v1/staff?limit=500").json()
    mine = set(
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code=MINE, valid_to=None)
        .values_list("staff_id", flat=True)
    )
    assert {s["id"] for s in body["items"]} >= mine
    assert body["count"] < 100


def test_api_reveal_matrix(api_as: Any) -> None:
    staff = _staff_in(MINE)
    url = f"/api/v1/staff/{staff.pk}/reveal"
    payload = {"field": "id_number", "reason": "核对身份"}
    ok = api_as("demo-grid").post(url, payload, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["value"] == staff.id_number
    # A department officer does not see the registry: 404, as for a missing person.
    hidden = api_as("demo-dept").post(url, payload, content_type="application/json")
    assert hidden.status_code == 404 and staff.id_number not in hidden.content.decode()
    # It sees the specialists its department sent, but may not reveal: 403, logged as denied.
    specialist = (
        Assignment.objects.dangerously_unscoped()
        .get(grid_code=MINE, role="specialist", valid_to=None)
        .staff
    )
    denied = api_as("demo-dept").post(
        f"/api/v1/staff/{specialist.pk}/reveal", payload, content_type="application/json"
    )
    assert denied.status_code == 403 and specialist.id_number not in denied.content.decode()
    assert AuditEntry.objects.filter(action="personal.reveal", outcome="denied").exists()
    other = _staff_in(OTHER)
    out = api_as("demo-grid").post(
        f"/api/v1/staff/{other.pk}/reveal", payload, content_type="application/json"
    )
    assert out.status_code == 404
    short = api_as("demo-grid").post(
        url, {"field": "phone", "reason": "x"}, content_type="application/json"
    )
    assert short.status_code == 400 and short.json()["code"] == "reason_required"


def test_api_assignment_create_and_end(api_as: Any) -> None:
    client = api_as("demo-community")
    payload: dict[str, Any] = {
        "role": "full_time",
        "valid_from": "2026-11-01",
        "staff": {"name": "接口新人", "id_number": "11010519491231002X", "phone": "13912345678"},
    }
    created = client.post(
        f"/api/v1/teams/{MINE}/assignments", payload, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assignment_id = created.json()["id"]
    ended = client.post(
        f"/api/v1/assignments/{assignment_id}/end",
        {"valid_to": "2026-11-20"},
        content_type="application/json",
    )
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-11-20"
    out = client.post(
        f"/api/v1/teams/{OTHER}/assignments", payload, content_type="application/json"
    )
    assert out.status_code == 404
    # Without the edit role (a grid leader, who sees the team): 403, nothing stored.
    leader = api_as("demo-grid")
    payload["staff"]["name"] = "无权新增"
    assert (
        leader.post(
            f"/api/v1/teams/{MINE}/assignments", payload, content_type="application/json"
        ).status_code
        == 403
    )
    assert not StaffMember.objects.dangerously_unscoped().filter(name="无权新增").exists()


def test_api_roster_import_dry_run(api_as: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wangge.teams.tests.test_roster import GOOD, _workbook

    upload = SimpleUploadedFile("r.xlsx", _workbook([GOOD]))
    body = (
        api_as("demo-community")
        .post("/api/v1/teams-roster", {"file": upload, "dry_run": "true"})
        .json()
    )
    # A dry run says what would happen (one insert) and stores nothing.
    assert (body["total"], body["inserted"], body["rejected"], body["stored"]) == (1, 1, 0, False)
    assert not StaffMember.objects.dangerously_unscoped().filter(name="黎明").exists()


def test_nobody_sees_no_teams(db: Any) -> None:
    from django.test import Client

    user = User.objects.create_user(username="nobody2", password="x-unused-password-1")
    client = Client()
    client.force_login(user)
    assert client.get("/teams/").status_code == 404
    assert client.get(f"/teams/grid/{MINE}/").status_code == 404


def test_notice_card_full_phones_are_a_logged_reveal(client_as: Any) -> None:
    staff = (
        Assignment.objects.dangerously_unscoped()
        .get(grid_code=MINE, role="leader", valid_to=None)
        .staff
    )
    masked = client_as("demo-community").get(f"/teams/grid/{MINE}/card/").content.decode()
    assert staff.phone not in masked
    full = client_as("demo-community").post(f"/teams/grid/{MINE}/card/").content.decode()
    assert staff.phone in full
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (entry.object_type, entry.object_id, entry.actor_name) == (
        "team",
        MINE,
        "demo-community",
    )
    # A grid leader of another grid (in the same community) sees neither the card nor phones.
    other = client_as("demo-grid").post("/teams/grid/440704003001002/card/")
    assert other.status_code == 404 and staff.phone not in other.content.decode()


# -- PUT /teams/{grid_code}/party-organisation ------------------------------------------------


def _org(grid: str) -> tuple[str, str, int | None]:
    from wangge.teams.models import PartyOrganisation

    org = PartyOrganisation.objects.dangerously_unscoped().get(grid_code=grid)
    return (org.kind, org.name, org.secretary_id)


def _put_org(client: Any, grid: str, **extra: Any) -> Any:
    payload = {"kind": "group", "name": "改过的党小组", **extra}
    return client.put(
        f"/api/v1/teams/{grid}/party-organisation", payload, content_type="application/json"
    )


@pytest.mark.parametrize(
    ("who", "grid", "status"),
    [
        (None, MINE, 401),  # anonymous
        ("demo-community", OTHER, 404),  # out of scope
        ("demo-auditor", MINE, 404),  # no teams role at all: the team does not exist for them
        ("demo-grid", MINE, 403),  # in scope, sees the team, may not edit it
        ("demo-dept", MINE, 404),  # a department grant sees no team
    ],
)
def test_party_organisation_put_denied(
    api_as: Any, who: str | None, grid: str, status: int
) -> None:
    client = api_as(who)
    before, audit_before = _org(grid), AuditEntry.objects.count()

    response = _put_org(client, grid)

    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "details"}
    assert "改过的党小组" not in response.content.decode()
    assert _org(grid) == before and AuditEntry.objects.count() == audit_before


def test_party_organisation_put_with_the_role(api_as: Any) -> None:
    member = _staff_in(MINE)

    response = _put_org(api_as("demo-community"), MINE, secretary_id=member.pk)

    assert response.status_code == 200
    assert response.json() == {
        "kind": "group",
        "name": "改过的党小组",
        "secretary": member.name,
        "secretary_id": member.pk,
        "parent_name": "",
    }
    assert _org(MINE) == ("group", "改过的党小组", member.pk)
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert (entry.action, entry.object_id, entry.actor_name) == (
        "party_org.save",
        MINE,
        "demo-community",
    )


def test_party_organisation_secretary_outside_scope_is_not_found(api_as: Any) -> None:
    before = _org(MINE)
    response = _put_org(api_as("demo-community"), MINE, secretary_id=_staff_in(OTHER).pk)
    assert response.status_code == 404
    assert _org(MINE) == before


# -- GET /teams-roster.xlsx ---------------------------------------------------------------------


def _exports() -> int:
    return AuditEntry.objects.filter(action="teams.export").count()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),  # anonymous
        ("demo-auditor", 404),  # district-wide, but no teams role
    ],
)
def test_roster_export_denied(api_as: Any, who: str | None, status: int) -> None:
    before = _exports()

    response = api_as(who).get("/api/v1/teams-roster.xlsx")

    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "details"}
    assert _exports() == before


def test_roster_export_without_any_grant_is_not_found(db: Any, system: Any) -> None:
    from django.test import Client

    from wangge.core.services import token_create

    nobody = User.objects.create_user(username="nobody3", password="x-unused-password-1")
    _token, plain = token_create(actor=system, user=nobody, name="t")
    before = _exports()
    response = Client(headers={"Authorization": f"Bearer {plain}"}).get("/api/v1/teams-roster.xlsx")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert _exports() == before


def _roster_names(data: bytes) -> set[str]:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data))["网格员"]
    return {row[3].value for row in sheet.iter_rows(min_row=2)}


@pytest.mark.parametrize("who", ["demo-grid", "demo-community"])
def test_roster_export_holds_the_scope_only(api_as: Any, who: str) -> None:
    before = _exports()

    response = api_as(who).get("/api/v1/teams-roster.xlsx")

    assert response.status_code == 200
    names = _roster_names(response.content)
    assert _staff_in(MINE).name in names
    assert _staff_in(OTHER).name not in names
    visible_grids = {"demo-grid": MINE, "demo-community": MINE[:12]}[who]
    expected = {
        a.staff.name
        for a in Assignment.objects.dangerously_unscoped()
        .filter(grid_code__startswith=visible_grids, valid_to=None)
        .select_related("staff")
    }
    assert names == expected
    assert _exports() == before + 1


def test_staff_exact_search_only_for_roles_that_may_reveal(api_as: Any) -> None:
    """Security finding 9 for the staff directory: exact search by phone is an oracle."""
    from django.test import Client

    from wangge.core.roles import Role
    from wangge.core.scope import Scope
    from wangge.core.services import token_create
    from wangge.core.tests.factories import user_with

    staff = _staff_in(MINE)
    _t, plain = token_create(
        actor=Scope.system("test"), user=user_with((Role.GRID_WORKER, MINE)), name="t"
    )
    worker = Client(headers={"Authorization": f"Bearer {plain}"})
    refused = worker.get(f"/api/v1/staff?q={staff.phone}")
    assert refused.status_code == 403 and staff.phone not in refused.content.decode()
    found = api_as("demo-grid").get(f"/api/v1/staff?q={staff.phone}").json()
    assert [s["id"] for s in found["items"]] == [staff.pk]
    assert AuditEntry.objects.filter(action="search.exact", object_type="staff").exists()


def test_staff_page_refuses_an_exact_search_in_words(client_as: Any) -> None:
    """The staff page, asked for a full phone by a role that may not search so, says so and
    lists as without the number (it was a 500, found by the page fuzz walk)."""
    from django.test import Client

    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    staff = _staff_in(MINE)
    worker = Client()
    worker.force_login(user_with((Role.GRID_WORKER, MINE)))
    page = worker.get(f"/teams/staff/?q={staff.phone}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "只有可查看完整个人信息的角色才能按身份证号或手机号查找" in text
    # Only where the user typed it: the search box gives their own words back.
    assert text.count(staff.phone) == 1 and f'value="{staff.phone}"' in text
