"""Reveals of staff data: the grant covering the person decides (finding 3), the value is shown
in the POST response and never kept in the session (finding 5), and nothing reveals on a GET
that another site could trigger (finding 15)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from openpyxl import load_workbook

from wangge.core.errors import PermissionDenied
from wangge.core.models import AuditEntry, User
from wangge.core.roles import Role
from wangge.core.scope import scope_for
from wangge.core.tests.factories import user_with
from wangge.teams import services
from wangge.teams.models import Assignment, StaffMember, TeamRole

pytestmark = pytest.mark.django_db

MINE = "440704003001001"
LEADS = "440704003001002"  # where the two-grant user is grid leader
WORKS = "440704003001003"  # where the same user is only a grid worker


def _member(grid: str, role: str = TeamRole.FULL_TIME) -> StaffMember:
    return (
        Assignment.objects.dangerously_unscoped()
        .select_related("staff")
        .get(grid_code=grid, role=role, valid_to=None)
        .staff
    )


@pytest.fixture
def leader_and_worker(db: Any) -> User:
    return user_with((Role.GRID_LEADER, LEADS), (Role.GRID_WORKER, WORKS))


def _login(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _reveals(grid: str) -> int:
    return AuditEntry.objects.filter(action="personal.reveal", object_id=grid).count()


# -- finding 3: the grant covering the person -----------------------------------------------


def test_leader_of_one_grid_reveals_there_and_not_where_only_a_worker(
    leader_and_worker: User,
) -> None:
    actor = scope_for(leader_and_worker)
    led, worked = _member(LEADS), _member(WORKS)

    value = services.staff_reveal(actor=actor, staff_id=led.pk, field="phone", reason="核实电话")

    assert value == led.phone
    with pytest.raises(PermissionDenied):
        services.staff_reveal(actor=actor, staff_id=worked.pk, field="phone", reason="核实电话")
    denied = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (denied.object_id, denied.outcome) == (str(worked.pk), "denied")


def test_api_reveal_follows_the_grant_covering_the_person(
    leader_and_worker: User, system: Any
) -> None:
    from wangge.core.services import token_create

    _token, plain = token_create(actor=system, user=leader_and_worker, name="t")
    api = Client(headers={"Authorization": f"Bearer {plain}"})
    led, worked = _member(LEADS), _member(WORKS)
    payload = {"field": "id_number", "reason": "核对身份"}

    ok = api.post(f"/api/v1/staff/{led.pk}/reveal", payload, content_type="application/json")
    no = api.post(f"/api/v1/staff/{worked.pk}/reveal", payload, content_type="application/json")

    assert ok.status_code == 200 and ok.json() == {"field": "id_number", "value": led.id_number}
    assert no.status_code == 403 and worked.id_number not in no.content.decode()


def test_pages_offer_the_reveal_only_where_the_grant_allows(leader_and_worker: User) -> None:
    client = _login(leader_and_worker)
    reveal_form = 'name="reason"'
    led, worked = _member(LEADS), _member(WORKS)

    assert reveal_form in client.get(f"/teams/staff/{led.pk}/").content.decode()
    assert reveal_form in client.get(f"/teams/grid/{LEADS}/").content.decode()
    assert reveal_form not in client.get(f"/teams/staff/{worked.pk}/").content.decode()
    assert reveal_form not in client.get(f"/teams/grid/{WORKS}/").content.decode()
    assert 'name="full"' in client.get(f"/teams/grid/{LEADS}/card/").content.decode()
    assert 'name="full"' not in client.get(f"/teams/grid/{WORKS}/card/").content.decode()


def test_page_reveal_where_not_covered_shows_nothing(leader_and_worker: User) -> None:
    worked = _member(WORKS)
    response = _login(leader_and_worker).post(
        f"/teams/staff/{worked.pk}/reveal/", {"field": "phone", "reason": "核实电话"}
    )
    assert response.status_code == 403
    assert worked.phone not in response.content.decode()


# -- finding 5: the value in the response, never in the session -----------------------------


def _session_texts() -> str:
    return " ".join(str(s.get_decoded()) for s in Session.objects.all())


def test_page_reveal_answers_with_the_value_and_keeps_it_out_of_the_session(
    client_as: Any,
) -> None:
    staff = _member(MINE)
    client = client_as("demo-community")

    response = client.post(
        f"/teams/staff/{staff.pk}/reveal/", {"field": "id_number", "reason": "核对身份"}
    )

    assert response.status_code == 200
    assert staff.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert staff.id_number not in _session_texts()
    assert "revealed" not in client.session
    # The next view is masked again.
    assert staff.id_number not in client.get(f"/teams/staff/{staff.pk}/").content.decode()


def test_page_reveal_without_a_reason_shows_nothing(client_as: Any) -> None:
    staff = _member(MINE)
    response = client_as("demo-community").post(
        f"/teams/staff/{staff.pk}/reveal/", {"field": "phone", "reason": "x"}
    )
    assert response.status_code == 400
    assert staff.phone not in response.content.decode()


# -- finding 15: no reveal on a GET; the POST needs the CSRF token --------------------------


def test_notice_card_reveals_on_post_only(client_as: Any) -> None:
    leader = _member(MINE, TeamRole.LEADER)
    client = client_as("demo-community")
    before = _reveals(MINE)

    on_get = client.get(f"/teams/grid/{MINE}/card/?full=1").content.decode()

    assert leader.phone not in on_get and _reveals(MINE) == before
    on_post = client.post(f"/teams/grid/{MINE}/card/", {"full": "1"})
    assert on_post.status_code == 200 and leader.phone in on_post.content.decode()
    assert _reveals(MINE) == before + 1


def test_notice_card_post_without_csrf_token_is_refused(user: Any) -> None:
    leader = _member(MINE, TeamRole.LEADER)
    client = _login(user("demo-community"), enforce_csrf_checks=True)
    before = _reveals(MINE)

    response = client.post(f"/teams/grid/{MINE}/card/", {"full": "1"})

    assert response.status_code == 403
    assert leader.phone not in response.content.decode() and _reveals(MINE) == before


def _ids_in(data: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(data))["网格员"]
    return [row[5].value for row in sheet.iter_rows(min_row=2)]


def _unmasked_exports() -> int:
    return AuditEntry.objects.filter(action="teams.export", details__unmasked=True).count()


def test_roster_page_export_unmasks_on_post_only(client_as: Any) -> None:
    client = client_as("demo-community")
    before = _unmasked_exports()

    on_get = client.get("/teams/roster/export.xlsx?unmasked=1&reason=核对名册")

    assert on_get.status_code == 200
    assert all("*" in v for v in _ids_in(on_get.content))
    assert _unmasked_exports() == before
    on_post = client.post("/teams/roster/export.xlsx", {"reason": "核对名册"})
    assert on_post.status_code == 200
    ids = _ids_in(on_post.content)
    assert ids and not any("*" in v for v in ids)
    assert _unmasked_exports() == before + 1


def test_roster_page_unmasked_export_without_csrf_token_is_refused(user: Any) -> None:
    client = _login(user("demo-community"), enforce_csrf_checks=True)
    response = client.post("/teams/roster/export.xlsx", {"reason": "核对名册"})
    assert response.status_code == 403
    assert not response.content.startswith(b"PK")  # not a workbook


def test_api_export_get_is_masked_and_post_unmasks(api_as: Any) -> None:
    client = api_as("demo-community")
    before = _unmasked_exports()

    on_get = client.get("/api/v1/teams-roster.xlsx?unmasked=true&reason=核对名册")

    assert on_get.status_code == 200 and all("*" in v for v in _ids_in(on_get.content))
    assert _unmasked_exports() == before
    on_post = client.post(
        "/api/v1/teams-roster.xlsx", {"reason": "核对名册"}, content_type="application/json"
    )
    assert on_post.status_code == 200
    assert not any("*" in v for v in _ids_in(on_post.content))
    assert _unmasked_exports() == before + 1
    short = client.post(
        "/api/v1/teams-roster.xlsx", {"reason": "x"}, content_type="application/json"
    )
    assert short.status_code == 400 and short.json()["code"] == "reason_required"


def test_api_unmasked_export_with_a_session_needs_the_csrf_token(user: Any) -> None:
    client = _login(user("demo-community"), enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/teams-roster.xlsx", {"reason": "核对名册"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not response.content.startswith(b"PK")


def test_unmasked_export_holds_only_rows_the_actor_may_reveal(leader_and_worker: User) -> None:
    from wangge.teams import roster

    data = roster.roster_export(
        actor=scope_for(leader_and_worker), unmasked=True, reason="核对名册"
    )

    sheet = load_workbook(io.BytesIO(data))["网格员"]
    grids = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert grids == {LEADS}


def test_department_may_not_export_unmasked(user: Any) -> None:
    from wangge.teams import roster

    with pytest.raises(PermissionDenied):
        roster.roster_export(actor=scope_for(user("demo-dept")), unmasked=True, reason="核对名册")
    entry = AuditEntry.objects.filter(action="teams.export").order_by("-seq")[0]
    assert (entry.outcome, entry.details["unmasked"]) == ("denied", True)
