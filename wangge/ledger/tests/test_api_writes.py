"""The ledger's write API: the same services as the pages, versions through If-Match or the
body, conflicts and referrals in the one error shape; and exact search (finding 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.core.models import AuditEntry
from wangge.core.roles import Role
from wangge.core.services import token_create
from wangge.core.tests.factories import user_with
from wangge.ledger.models import Person
from wangge.ledger.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"
OTHER = "440704001001001"
NEW_ID = "11010519491231002X"


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json", headers=headers)


def test_the_api_schemas_come_from_the_field_list() -> None:
    from wangge.ledger.api.people import PersonIn, PersonPatch
    from wangge.ledger.fields import fields

    keys = {f.key for f in fields("person")}
    assert keys <= set(PersonIn.model_fields) and keys <= set(PersonPatch.model_fields)
    assert PersonIn.model_fields["name"].is_required()
    assert not PersonPatch.model_fields["name"].is_required()


def test_create_then_patch_with_if_match(api_as: Any) -> None:
    client = api_as("demo-grid")
    made = post(
        client, "/api/v1/people", {"name": "接口新增", "id_number": NEW_ID, "grid_code": MINE}
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (
        body["version"] == 1
        and body["birth_year"] == 1949
        and body["id_number"] == "110105************"
    )
    url = f"/api/v1/people/{body['id']}"
    assert client.get(url)["ETag"] == '"1"'
    changed = patch(client, url, {"employer": "某公司"}, **{"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = patch(client, url, {"occupation": "司机"}, **{"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "conflict",
        "message": stale.json()["message"],
        "details": {"current_version": 2, "changed_fields": ["employer"]},
    }
    assert patch(client, url, {"occupation": "司机"}).json()["code"] == "version_required"
    history = client.get(f"{url}/history").json()
    assert [h["action"] for h in history] == ["update", "create"]


def test_a_referral_is_a_202_that_says_nothing_of_the_person(api_as: Any) -> None:
    elsewhere = PersonFactory.create(grid_code=OTHER)
    response = post(
        api_as("demo-grid"),
        "/api/v1/people",
        {"name": "外地人", "id_number": elsewhere.id_number, "grid_code": MINE},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["code"] == "referred" and body["details"] is None
    assert (
        elsewhere.name not in response.content.decode() and OTHER not in response.content.decode()
    )


def test_possible_duplicates_in_the_409(api_as: Any) -> None:
    existing = PersonFactory.create(grid_code=MINE, phone="13933334444")
    body = {"name": "可能重复", "id_number": NEW_ID, "phone": "13933334444", "grid_code": MINE}
    asked = post(api_as("demo-grid"), "/api/v1/people", body)
    assert asked.status_code == 409 and asked.json()["code"] == "possible_duplicate"
    assert [c["id"] for c in asked.json()["details"]["candidates"]] == [existing.pk]
    assert (
        post(api_as("demo-grid"), "/api/v1/people", body | {"confirm_new": True}).status_code == 201
    )


def test_writes_out_of_scope_or_without_the_role(api_as: Any) -> None:
    other = PersonFactory.create(grid_code=OTHER)
    client = api_as("demo-grid")
    assert (
        patch(client, f"/api/v1/people/{other.pk}", {"name": "x", "version": 1}).status_code == 404
    )
    assert (
        post(
            client, f"/api/v1/people/{other.pk}/retire", {"reason": "deceased", "version": 1}
        ).status_code
        == 404
    )
    dept = api_as("demo-dept")
    assert (
        post(
            dept, "/api/v1/people", {"name": "x", "id_number": NEW_ID, "grid_code": MINE}
        ).status_code
        == 404
    )
    assert Person.objects.dangerously_unscoped().get(pk=other.pk).name == other.name
    assert (
        not Person.objects.dangerously_unscoped().filter(id_index__isnull=False, name="x").exists()
    )


def _client_for(user: Any) -> Client:
    from wangge.core.scope import Scope

    _t, plain = token_create(actor=Scope.system("test"), user=user, name="t")
    return Client(headers={"Authorization": f"Bearer {plain}"})


def test_exact_search_only_for_roles_that_may_reveal(api_as: Any) -> None:
    """Security finding 9: a grid worker tried 10⁴ phones until the masked one matched."""
    person = PersonFactory.create(grid_code=MINE)
    worker = _client_for(user_with((Role.GRID_WORKER, MINE)))
    refused = worker.get(f"/api/v1/people?q={person.phone}")
    assert refused.status_code == 403 and refused.json()["code"] == "exact_search_not_allowed"
    assert worker.get(f"/api/v1/people?q={person.name[:1]}").status_code == 200
    before = AuditEntry.objects.filter(action="search.exact").count()
    found = api_as("demo-grid").get(f"/api/v1/people?q={person.phone}").json()
    assert [p["id"] for p in found["items"]] == [person.pk]
    entry = AuditEntry.objects.filter(action="search.exact").order_by("-seq")[0]
    assert AuditEntry.objects.filter(action="search.exact").count() == before + 1
    assert entry.details == {"by": "phone"} and person.phone not in str(entry.details)


def test_exact_search_only_among_people_one_may_reveal(api_as: Any) -> None:
    """The grant covering each person decides: a grid worker in grid 2 sees people there, but
    exact search finds only those of grid 1, where the same user is grid leader."""
    user = user_with((Role.GRID_LEADER, MINE), (Role.GRID_WORKER, "440704003001002"))
    there = PersonFactory.create(grid_code="440704003001002")
    client = _client_for(user)
    assert client.get(f"/api/v1/people/{there.pk}").status_code == 200
    assert client.get(f"/api/v1/people?q={there.id_number}").json()["count"] == 0
    reveal = post(
        client, f"/api/v1/people/{there.pk}/reveal", {"field": "id_number", "reason": "核实身份"}
    )
    assert reveal.status_code == 403 and there.id_number not in reveal.content.decode()


def test_exact_search_is_limited_per_hour(api_as: Any, settings: Any) -> None:
    settings.LEDGER_EXACT_SEARCHES_PER_HOUR = 3
    client = api_as("demo-grid")
    codes = [client.get(f"/api/v1/people?q=1390000{n:04d}").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
