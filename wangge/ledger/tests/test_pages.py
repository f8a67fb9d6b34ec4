"""The ledger's pages (desktop and phone share them): add, correct, move, retire, reveal,
export — each a thin adapter over the services, with their errors shown beside the fields."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session

from wangge.core.models import AuditEntry
from wangge.ledger.models import Person
from wangge.ledger.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"
OTHER = "440704001001001"
NEW_ID = "11010519491231002X"


def unscoped() -> Any:
    return Person.objects.dangerously_unscoped()


def test_the_add_form_comes_from_the_field_list(client_as: Any) -> None:
    from wangge.ledger.fields import fields

    body = client_as("demo-grid").get("/ledger/people/new/").content.decode()
    for f in fields("person"):
        if not f.sensitive:
            assert f'name="{f.key}"' in body, f.key
    assert 'name="special_tags"' not in body  # demo-grid may not see special groups
    assert (
        'name="special_tags"'
        in client_as("demo-community").get("/ledger/people/new/").content.decode()
    )


def test_adding_a_person_from_the_page(client_as: Any) -> None:
    client = client_as("demo-grid")
    response = client.post(
        "/ledger/people/new/",
        {
            "name": "页面新增",
            "id_number": NEW_ID,
            "grid_code": MINE,
            "care_tags": ["elderly_alone"],
        },
    )
    made = unscoped().get(name="页面新增")
    assert response.status_code == 302 and response["Location"] == f"/ledger/people/{made.pk}/"
    assert made.care_tags == "elderly_alone" and made.grid_code == MINE


def test_errors_are_shown_beside_their_fields(client_as: Any) -> None:
    response = client_as("demo-grid").post(
        "/ledger/people/new/",
        {"name": "错号", "id_number": "110105194912310021", "grid_code": MINE},
    )
    assert response.status_code == 400
    assert (
        "校验位不正确" in response.content.decode() and not unscoped().filter(name="错号").exists()
    )


def test_a_possible_duplicate_is_asked_about_then_added_when_confirmed(client_as: Any) -> None:
    PersonFactory.create(grid_code=MINE, phone="13922223333", name="老王")
    client = client_as("demo-grid")
    data = {"name": "新王", "id_number": NEW_ID, "phone": "13922223333", "grid_code": MINE}
    asked = client.post("/ledger/people/new/", data)
    assert asked.status_code == 409 and "老*" in asked.content.decode()
    assert not unscoped().filter(name="新王").exists()
    assert client.post("/ledger/people/new/", data | {"confirm_new": "1"}).status_code == 302
    assert unscoped().filter(name="新王").exists()


def test_a_stale_edit_says_what_changed(client_as: Any) -> None:
    person = PersonFactory.create(grid_code=MINE)
    client = client_as("demo-grid")
    assert client.get(f"/ledger/people/{person.pk}/edit/").status_code == 200
    first = client.post(
        f"/ledger/people/{person.pk}/edit/",
        {"version": "1", "name": person.name, "employer": "甲厂"},
    )
    assert first.status_code == 302
    stale = client.post(
        f"/ledger/people/{person.pk}/edit/",
        {"version": "1", "name": person.name, "employer": "乙厂"},
    )
    assert stale.status_code == 409 and "工作单位" in stale.content.decode()
    assert unscoped().get(pk=person.pk).employer == "甲厂"


def test_out_of_scope_pages_are_not_found(client_as: Any) -> None:
    other = PersonFactory.create(grid_code=OTHER)
    client = client_as("demo-grid")
    for url in ("", "edit/", "move/", "retire/"):
        assert client.get(f"/ledger/people/{other.pk}/{url}").status_code == 404
    assert (
        client.post(f"/ledger/people/{other.pk}/edit/", {"version": "1", "name": "x"}).status_code
        == 404
    )
    assert unscoped().get(pk=other.pk).name == other.name


def test_the_revealed_value_is_shown_once_and_never_kept_in_the_session(client_as: Any) -> None:
    """Security finding 5: revealed values were kept in django_session."""
    person = PersonFactory.create(grid_code=MINE)
    client = client_as("demo-grid")
    response = client.post(
        f"/ledger/people/{person.pk}/reveal/", {"field": "id_number", "reason": "上门核实"}
    )
    assert response.status_code == 200 and person.id_number in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    for session in Session.objects.all():
        assert person.id_number not in str(session.get_decoded())
    assert person.id_number not in client.get(f"/ledger/people/{person.pk}/").content.decode()


def test_the_full_export_is_a_post_with_a_reason(client_as: Any) -> None:
    """Security finding 15: a GET link could trigger an unmasked export cross-site."""
    person = PersonFactory.create(grid_code=MINE)
    client = client_as("demo-grid")
    masked = b"".join(
        client.get("/ledger/people/export.csv?unmasked=1&reason=核对数据").streaming_content
    )
    assert person.id_number.encode() not in masked
    full = client.post("/ledger/people/export.csv", {"reason": "核对数据"})
    assert person.id_number in b"".join(full.streaming_content).decode("utf-8-sig")
    entry = AuditEntry.objects.filter(action="ledger.export.people").order_by("-seq")[0]
    assert entry.details["unmasked"] is True and entry.details["reason"] == "核对数据"


def test_retire_and_restore_from_the_page(client_as: Any) -> None:
    person = PersonFactory.create(grid_code=MINE)
    client = client_as("demo-grid")
    assert (
        client.post(
            f"/ledger/people/{person.pk}/retire/", {"version": "1", "reason": "deceased"}
        ).status_code
        == 302
    )
    assert unscoped().get(pk=person.pk).retired_reason == "deceased"
    assert (
        client.post(
            f"/ledger/people/{person.pk}/retire/", {"version": "2", "restore": "1"}
        ).status_code
        == 302
    )
    assert unscoped().get(pk=person.pk).retired_on is None


@pytest.mark.parametrize(
    "url",
    [
        "/ledger/organisations/new/",
        "/ledger/things/new/",
        "/ledger/estates/new/",
        "/ledger/addresses/",
        "/ledger/people/new/",
    ],
)
def test_add_pages_open_for_editors_and_not_for_departments(client_as: Any, url: str) -> None:
    assert client_as("demo-grid").get(url).status_code == 200
    assert client_as("demo-dept").get(url).status_code == 404
    assert client_as(None).get(url).status_code == 302


def test_record_pages_of_each_kind(client_as: Any) -> None:
    from wangge.ledger.models import Building, Estate, Organisation, Room, Thing

    client = client_as("demo-grid")
    for model, prefix in (
        (Organisation, "organisations"),
        (Thing, "things"),
        (Estate, "estates"),
        (Building, "buildings"),
        (Room, "rooms"),
    ):
        mine = model.objects.dangerously_unscoped().filter(grid_code=MINE)[0]
        other = model.objects.dangerously_unscoped().filter(grid_code=OTHER)[0]
        for suffix in ("", "edit/", "retire/"):
            assert client.get(f"/ledger/{prefix}/{mine.pk}/{suffix}").status_code == 200, (
                prefix,
                suffix,
            )
            assert client.get(f"/ledger/{prefix}/{other.pk}/{suffix}").status_code == 404


def test_the_edit_form_never_shows_the_full_id_number_or_phone(client_as: Any) -> None:
    """An editor who may not reveal must not read the full number from the edit form."""
    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    person = PersonFactory.create(grid_code=MINE)
    worker = client_as(None)
    worker.force_login(user_with((Role.GRID_WORKER, MINE)))
    body = worker.get(f"/ledger/people/{person.pk}/edit/").content.decode()
    assert person.id_number not in body and person.phone not in body
    assert person.id_number[:6] + "************" in body  # as a placeholder
    # Saving with the secret fields left blank keeps them.
    saved = worker.post(
        f"/ledger/people/{person.pk}/edit/",
        {"version": "1", "name": person.name, "id_number": "", "phone": "", "employer": "丙厂"},
    )
    assert saved.status_code == 302
    stored = unscoped().get(pk=person.pk)
    assert (stored.id_number, stored.phone, stored.employer) == (
        person.id_number,
        person.phone,
        "丙厂",
    )


def test_a_refused_duplicate_counts_as_an_exact_lookup(client_as: Any, settings: Any) -> None:
    """Entering candidate numbers until one is 'already in the ledger' is an oracle too."""
    from wangge.core.errors import Conflict, TooManyRequests
    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.ledger import services

    settings.LEDGER_EXACT_SEARCHES_PER_HOUR = 2
    existing = PersonFactory.create(grid_code=MINE)
    grid = scope_for(User.objects.get(username="demo-grid"))
    values = {"name": "试探", "id_number": existing.id_number}
    for _ in range(2):
        with pytest.raises(Conflict):
            services.person_create(actor=grid, values=values, grid_code=MINE)
    assert AuditEntry.objects.filter(action="search.exact", details__via="create").count() == 2
    with pytest.raises(TooManyRequests):
        services.person_create(actor=grid, values=values, grid_code=MINE)
