"""Authorisation matrix for the ledger: anonymous, out of scope, in scope without the role,
in scope with it — for pages, API, search, exports and counts; reveal and sensitive tags."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import AuditEntry
from wangge.ledger.models import Person, SensitiveTag

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # demo-grid's grid
LILE = "440704003"
OTHER = "440704001001001"


def _person(prefix: str) -> Person:
    return (
        Person.objects.dangerously_unscoped().filter(grid_code__startswith=prefix).order_by("id")[0]
    )


@pytest.mark.parametrize(
    "url",
    [
        "/ledger/",
        "/ledger/people/",
        "/ledger/organisations/",
        "/ledger/things/",
        "/ledger/map/",
        "/ledger/import/",
    ],
)
def test_pages_anonymous_and_in_scope(client_as: Any, url: str) -> None:
    assert client_as(None).get(url).status_code == 302
    assert client_as("demo-street").get(url).status_code == 200


def test_person_page_scope_and_audit(client_as: Any) -> None:
    mine, other = _person(MINE), _person(OTHER)
    client = client_as("demo-grid")
    assert client.get(f"/ledger/people/{other.pk}/").status_code == 404
    before = AuditEntry.objects.filter(action="person.view").count()
    page = client.get(f"/ledger/people/{mine.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert mine.id_number not in body and mine.id_number[:6] + "**********" in body
    assert AuditEntry.objects.filter(action="person.view").count() == before + 1
    entry = AuditEntry.objects.filter(action="person.view").order_by("-seq")[0]
    assert (entry.object_id, entry.actor_name) == (str(mine.pk), "demo-grid")


def test_department_officer_has_no_people(client_as: Any, api_as: Any) -> None:
    assert client_as("demo-dept").get("/ledger/people/").status_code == 404
    assert api_as("demo-dept").get("/api/v1/people").status_code == 404
    # ... but sees components and facilities.
    assert api_as("demo-dept").get("/api/v1/things").status_code == 200


def test_lists_search_and_counts_are_scoped(api_as: Any) -> None:
    grid_body = api_as("demo-grid").get("/api/v1/people?limit=500").json()
    assert grid_body["count"] > 0 and all(p["grid_code"] == MINE for p in grid_body["items"])
    street = api_as("demo-street")
    body = street.get("/api/v1/people?limit=500").json()
    assert all(p["grid_code"].startswith(LILE) for p in body["items"])
    assert (
        body["count"]
        == Person.objects.dangerously_unscoped().filter(grid_code__startswith=LILE).count()
    )
    counts = street.get("/api/v1/ledger/counts").json()
    assert counts["people"] == body["count"]
    other = _person(OTHER)
    # Search by a full ID number outside the scope finds nothing; inside it finds the person.
    assert street.get(f"/api/v1/people?q={other.id_number}").json()["count"] == 0
    mine = _person(MINE)
    found = street.get(f"/api/v1/people?q={mine.id_number.lower()}").json()
    assert [p["id"] for p in found["items"]] == [mine.pk]
    assert street.get(f"/api/v1/people/{other.pk}").status_code == 404
    assert street.get(f"/api/v1/people?phone=&q={other.phone}").json()["count"] == 0


def test_keyset_pagination(api_as: Any) -> None:
    client = api_as("demo-street")
    first = client.get("/api/v1/people?limit=5").json()
    second = client.get(f"/api/v1/people?limit=5&after={first['next_after']}").json()
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10


def test_export_is_scoped_masked_and_audited(api_as: Any, client_as: Any) -> None:
    response = client_as("demo-grid").get("/ledger/people/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("网格编码,姓名")
    assert all(line.startswith(MINE) for line in lines[1:])
    mine = _person(MINE)
    assert mine.id_number not in body and mine.phone not in body
    entry = AuditEntry.objects.filter(action="ledger.export.people").order_by("-seq")[0]
    assert entry.details["unmasked"] is False and entry.details["rows"] == len(lines) - 1
    # Unmasked: a POST (no link can trigger it), the role and a reason are needed.
    reason = {"reason": "核对数据"}
    denied = api_as("demo-dept").post("/api/v1/people.csv", reason, content_type="application/json")
    assert denied.status_code == 404
    full = api_as("demo-grid").post("/api/v1/people.csv", reason, content_type="application/json")
    assert mine.id_number in b"".join(full.streaming_content).decode("utf-8-sig")
    no_reason = api_as("demo-grid").post(
        "/api/v1/people.csv", {"reason": "x"}, content_type="application/json"
    )
    assert no_reason.status_code == 400
    # The old GET form reveals nothing (finding 15): it is refused, not served masked silently.
    old = api_as("demo-grid").get("/api/v1/people.csv?unmasked=true&reason=核对数据")
    assert old.status_code == 400 and mine.id_number not in old.content.decode()


def test_reveal_writes_an_audit_entry_with_its_reason(api_as: Any) -> None:
    mine = _person(MINE)
    response = api_as("demo-grid").post(
        f"/api/v1/people/{mine.pk}/reveal",
        {"field": "id_number", "reason": "上门核实身份"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["value"] == mine.id_number
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert entry.details == {"field": "id_number", "reason": "上门核实身份"}
    assert (entry.object_type, entry.object_id) == ("person", str(mine.pk))
    other = _person(OTHER)
    assert (
        api_as("demo-grid")
        .post(
            f"/api/v1/people/{other.pk}/reveal",
            {"field": "phone", "reason": "上门核实身份"},
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_special_groups_exist_only_for_configured_roles(api_as: Any) -> None:
    tag = (
        SensitiveTag.objects.dangerously_unscoped()
        .filter(grid_code__startswith="440704003001")
        .first()
    )
    if tag is None:  # make one in 英南村 so the test does not depend on the demo's dice
        from wangge.ledger.importers import tag_index

        person = _person("440704003001")
        tag = SensitiveTag.objects.create(
            person=person,
            grid_code=person.grid_code,
            tag="correction",
            tag_index=tag_index("correction"),
        )
    person = tag.person
    # demo-community (a configured role) sees the tag and can filter by it.
    community = api_as("demo-community")
    detail = community.get(f"/api/v1/people/{person.pk}").json()
    assert tag.tag in detail["special_tags"]
    filtered = community.get(f"/api/v1/people?special_tag={tag.tag}&limit=500").json()
    assert person.pk in [p["id"] for p in filtered["items"]]
    # demo-street is in scope but not configured: the key is absent, the filter finds nobody.
    street = api_as("demo-street")
    assert "special_tags" not in street.get(f"/api/v1/people/{person.pk}").json()
    assert street.get(f"/api/v1/people?special_tag={tag.tag}").json()["count"] == 0
    page = street.get(f"/api/v1/people/{person.pk}").content.decode()
    assert tag.tag not in page


def test_organisations_and_things_scoped(api_as: Any) -> None:
    body = api_as("demo-grid").get("/api/v1/organisations?limit=500").json()
    assert body["count"] > 0 and all(o["grid_code"] == MINE for o in body["items"])
    things = api_as("demo-street").get("/api/v1/things?limit=500").json()
    assert things["count"] > 0 and all(t["grid_code"].startswith(LILE) for t in things["items"])
    geo = api_as("demo-grid").get("/api/v1/ledger/map.geojson").json()
    assert geo["features"] and all(f["properties"]["grid"] == MINE for f in geo["features"])


def test_api_anonymous(api_as: Any) -> None:
    for url in (
        "/api/v1/people",
        "/api/v1/organisations",
        "/api/v1/things",
        "/api/v1/ledger/counts",
    ):
        assert api_as(None).get(url).status_code == 401
