"""Merging two ledger records found to be one, and undoing it: what moves, what is filled and
never overwritten, scope, audit, the campaigns hook, and an undo that restores exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.ledger import selectors, services
from wangge.ledger.importers import person_id_index
from wangge.ledger.models import (
    Household,
    LedgerChange,
    Organisation,
    Person,
    RecordMerge,
    Referral,
    SensitiveTag,
)
from wangge.ledger.services.referrals import refer
from wangge.ledger.tests.factories import (
    HouseholdFactory,
    OrganisationFactory,
    PersonFactory,
    RoomFactory,
    SensitiveTagFactory,
)

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # demo-grid's grid
NEXT = "440704003001002"  # the same community (demo-community sees both)
OTHER = "440704001001001"  # another street
SYSTEM = Scope.system("test-merge")


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def people() -> Any:
    return Person.objects.dangerously_unscoped()


def snapshot(*ids: int) -> dict[str, Any]:
    """Everything a merge may touch, for the people `ids`, without versions and timestamps."""
    skip = {"version", "updated_at"}
    rows = {
        p.pk: {
            f.attname: getattr(p, f.attname)
            for f in Person._meta.concrete_fields
            if f.attname not in skip
        }
        for p in people().filter(pk__in=ids)
    }
    households = {
        h.pk: (h.head_id, h.room_id)
        for h in Household.objects.dangerously_unscoped().filter(head_id__in=ids)
    }
    tags = sorted(
        SensitiveTag.objects.dangerously_unscoped()
        .filter(person_id__in=ids)
        .values_list("person_id", "tag_index", "grid_code")
    )
    referrals = sorted(
        Referral.objects.dangerously_unscoped()
        .filter(existing_id__in=ids)
        .values_list("pk", "existing_id")
    )
    return {
        "people": rows,
        "households": households,
        "tags": tags,
        "referrals": referrals,
    }


@pytest.fixture
def pair() -> tuple[Person, Person]:
    """One person registered twice: in MINE with a phone and no ID number, in NEXT with the ID
    number, another phone, a household she heads, care groups and a special-group tag."""
    survivor = PersonFactory.create(
        grid_code=MINE,
        name="王晓明",
        id_number="",
        id_index=None,
        birth_date=None,
        employer="",
        occupation="工人",
        care_tags="chronic",
    )
    room = RoomFactory.create()
    household = HouseholdFactory.create(grid_code=NEXT, room=room)
    merged = PersonFactory.create(
        grid_code=NEXT,
        name="王小明",
        employer="江海电子厂",
        occupation="技工",
        care_tags="chronic,disabled",
        household=household,
        relation="户主",
        room=room,
    )
    household.head = merged
    household.save(update_fields=["head"])
    PersonFactory.create(grid_code=NEXT, household=household, relation="配偶")
    SensitiveTagFactory.create(person=merged, tag="released")
    return survivor, merged


def merge(survivor: Person, merged: Person, actor: str = "demo-community") -> RecordMerge:
    return services.merge_records(
        actor=who(actor),
        kind="person",
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        reason="同一人登记两次（身份证号一致）",
    )


def test_merge_moves_household_tags_and_fills_blanks_without_overwriting(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    id_number = merged.id_number
    result = merge(survivor, merged)

    s = people().get(pk=survivor.pk)
    m = people().get(pk=merged.pk)
    # Blank fields filled (the ID number with its blind index), set ones kept.
    assert s.id_number == id_number and s.id_index == person_id_index(id_number)
    assert s.birth_date == merged.birth_date and s.employer == "江海电子厂"
    assert s.occupation == "工人" and s.name == "王晓明" and s.phone == survivor.phone
    assert s.room_id == merged.room_id
    assert set(result.moves["ledger"]["filled"]) >= {"id_number", "birth_date", "employer", "room"}
    assert result.conflicts == ["name", "occupation", "phone"]
    # Household, head, care groups (union), special groups (copied).
    assert (s.household_id, s.relation) == (merged.household_id, "户主")
    assert Household.objects.dangerously_unscoped().get(pk=merged.household_id).head_id == s.pk
    assert s.care_tag_list() == ["chronic", "disabled"]
    assert selectors.person_special_tags(actor=who("demo-community"), person=s) == ["released"]
    # The merged record: retired as a duplicate, pointing at the survivor, still readable.
    assert (m.retired_reason, m.merged_into_id, m.household_id) == ("duplicate", s.pk, None)
    assert m.id_index is None and m.id_number == id_number and m.retired_on is not None
    assert selectors.person_get(actor=who("demo-community"), person_id=m.pk).name == "王小明"
    # Versions and the change log.
    assert (s.version, m.version) == (survivor.version + 1, merged.version + 1)
    changes = LedgerChange.objects.dangerously_unscoped().filter(action="merge", kind="person")
    assert set(changes.values_list("record_id", flat=True)) == {s.pk, m.pk}
    assert "id_number" in changes.get(record_id=s.pk).fields
    # Nothing personal in plain JSON: the sealed part is encrypted in the database.
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM ledger_recordmerge WHERE id = %s", [result.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1.") and "disabled" not in stored and "户主" not in stored
    assert "disabled" not in str(result.moves) and id_number not in str(result.moves)


def test_one_audit_entry_with_counts_and_no_values(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    before = AuditEntry.objects.count()
    result = merge(survivor, merged)
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [e.action for e in entries] == ["ledger.merge"]
    details = entries[0].details
    assert (details["kind"], details["survivor"], details["merged"]) == (
        "person",
        survivor.pk,
        merged.pk,
    )
    assert details["counts"]["households"] == 1 and details["counts"]["care_tags"] == 1
    assert "sensitive_tags" not in details["counts"]
    assert merged.id_number not in str(details) and "王小明" not in str(details)
    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert AuditEntry.objects.order_by("-seq")[0].action == "ledger.unmerge"


def test_undo_restores_everything_exactly(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    referral = refer(
        actor=SYSTEM,
        kind="person",
        reason="duplicate_elsewhere",
        grid_code=MINE,
        existing_id=merged.pk,
        payload={},
        source="page",
    )
    before = snapshot(survivor.pk, merged.pk)
    result = merge(survivor, merged)
    assert Referral.objects.dangerously_unscoped().get(pk=referral.pk).existing_id == survivor.pk
    assert snapshot(survivor.pk, merged.pk) != before

    undone = services.unmerge_records(
        actor=who("demo-community"), merge_id=result.pk, reason="两人并非同一人"
    )

    assert snapshot(survivor.pk, merged.pk) == before
    assert undone.undone_at is not None and undone.undone_by_name == "demo-community"
    assert people().get(pk=merged.pk).version == merged.version + 2
    assert LedgerChange.objects.dangerously_unscoped().filter(action="unmerge").count() >= 2


def test_undo_keeps_a_filled_field_the_survivor_changed_since(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    grid = who("demo-community")
    current = people().get(pk=survivor.pk)
    services.person_update(
        actor=grid, person_id=survivor.pk, version=current.version, values={"employer": "新厂"}
    )
    undone = services.unmerge_records(actor=grid, merge_id=result.pk, reason="误合并")
    s = people().get(pk=survivor.pk)
    assert s.employer == "新厂" and s.id_number == "" and s.id_index is None
    assert undone.moves["ledger"]["kept_on_undo"] == ["employer"]
    assert people().get(pk=merged.pk).id_index == person_id_index(merged.id_number)


def test_undo_is_refused_when_the_merged_id_number_was_taken_since(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    # The survivor's number is corrected to another, and someone registers the freed one.
    people().filter(pk=survivor.pk).update(id_number="11010519491231002X", id_index="other")
    PersonFactory.create(grid_code=MINE, id_number=merged.id_number)
    with pytest.raises(Conflict) as caught:
        services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert caught.value.code == "id_number_taken"
    assert people().get(pk=merged.pk).merged_into_id == survivor.pk


def test_double_undo_is_refused(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    with pytest.raises(Conflict) as caught:
        services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="再来")
    assert caught.value.code == "already_undone"


def test_undo_is_refused_while_the_survivor_is_merged_into_another(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    first = merge(survivor, merged)
    third = PersonFactory.create(grid_code=MINE, id_number="", id_index=None)
    merge(third, survivor)
    with pytest.raises(Conflict) as caught:
        services.unmerge_records(actor=who("demo-community"), merge_id=first.pk, reason="误合并")
    assert caught.value.code == "survivor_merged"
    assert people().get(pk=merged.pk).merged_into_id == survivor.pk


def test_a_merged_record_is_restored_only_by_undoing_the_merge(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    merge(survivor, merged)
    m = people().get(pk=merged.pk)
    with pytest.raises(ValidationFailed) as caught:
        services.person_restore(actor=who("demo-community"), person_id=m.pk, version=m.version)
    assert caught.value.code == "merged"


def test_out_of_scope_is_not_found_and_nothing_changes(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair  # demo-grid sees MINE only; merged is in NEXT
    before = snapshot(survivor.pk, merged.pk)
    with pytest.raises(NotFound):
        merge(survivor, merged, actor="demo-grid")
    with pytest.raises(NotFound):
        merge(merged, survivor, actor="demo-grid")
    far = PersonFactory.create(grid_code=OTHER)
    with pytest.raises(NotFound):
        merge(survivor, far, actor="demo-community")
    with pytest.raises(NotFound):
        services.merge_records(
            actor=who("demo-community"),
            kind="person",
            survivor_id=survivor.pk,
            merged_id=10**12,
            reason="同一人",
        )
    assert snapshot(survivor.pk, merged.pk) == before
    assert not RecordMerge.objects.dangerously_unscoped().exists()


def test_undo_out_of_scope_is_not_found(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    with pytest.raises(NotFound):
        services.unmerge_records(actor=who("demo-grid"), merge_id=result.pk, reason="误合并")
    with pytest.raises(NotFound):
        services.unmerge_records(actor=who("demo-grid"), merge_id=10**12, reason="误合并")
    # demo-grid sees the survivor (MINE) and so the merge, but may not undo it.
    assert selectors.merge_get(actor=who("demo-grid"), merge_id=result.pk).pk == result.pk
    assert selectors.merge_abilities(actor=who("demo-grid"), merge=result) == {"undo": False}
    with pytest.raises(NotFound):
        selectors.merge_get(actor=who("demo-dept"), merge_id=result.pk)


def test_refusals_of_bad_requests(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    grid = who("demo-community")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"merged_id": survivor.pk}, "same_record"),
        ({"reason": " "}, "reason_required"),
        ({"kind": "thing"}, "unknown_kind"),
    ]
    for kwargs, code in cases:
        args: dict[str, Any] = {
            "actor": grid,
            "kind": "person",
            "survivor_id": survivor.pk,
            "merged_id": merged.pk,
            "reason": "同一人",
        }
        with pytest.raises(ValidationFailed) as caught:
            services.merge_records(**(args | kwargs))
        assert caught.value.code == code
    retired = PersonFactory.create(grid_code=MINE, retired_on=dt.date(2024, 1, 1))
    with pytest.raises(ValidationFailed) as caught:
        merge(survivor, retired)
    assert caught.value.code == "retired"


def test_merging_into_a_member_of_the_same_household_makes_them_head_and_undo_reverts(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    people().filter(pk=survivor.pk).update(household=merged.household_id, relation="之子")
    before = snapshot(survivor.pk, merged.pk)
    result = merge(people().get(pk=survivor.pk), merged)
    s = people().get(pk=survivor.pk)
    assert (s.household_id, s.relation) == (merged.household_id, "户主")
    assert Household.objects.dangerously_unscoped().get(pk=merged.household_id).head_id == s.pk
    assert result.moves["ledger"]["household"]["survivor_joined"] is False
    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert snapshot(survivor.pk, merged.pk) == before
    assert people().get(pk=survivor.pk).relation == "之子"


def test_undo_is_refused_when_the_survivor_became_head_of_the_household_it_joined(
    pair: tuple[Person, Person],
) -> None:
    survivor, merged = pair
    household = merged.household
    assert household is not None
    spouse = people().get(household=household, relation="配偶")
    household.head = spouse  # the merged person is a plain member
    household.save(update_fields=["head"])
    people().filter(pk=merged.pk).update(relation="之子")
    result = merge(survivor, people().get(pk=merged.pk))
    grid = who("demo-community")
    version = Household.objects.dangerously_unscoped().get(pk=household.pk).version
    services.household_set_head(
        actor=grid, household_id=household.pk, version=version, person_id=survivor.pk
    )
    with pytest.raises(Conflict) as caught:
        services.unmerge_records(actor=grid, merge_id=result.pk, reason="误合并")
    assert caught.value.code == "survivor_is_head"


def test_two_different_households_are_refused(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    other = HouseholdFactory.create(grid_code=MINE, head=survivor)
    people().filter(pk=survivor.pk).update(household=other, relation="户主")
    with pytest.raises(Conflict) as caught:
        merge(people().get(pk=survivor.pk), merged)
    assert caught.value.code == "different_households"
    assert people().get(pk=merged.pk).merged_into_id is None


def test_merge_hooks_store_what_they_moved_and_get_it_back_on_undo(
    pair: tuple[Person, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wangge.ledger.services import merge as merge_module

    calls: list[tuple[str, int, Any]] = []

    def on_merge(m: RecordMerge) -> dict[str, Any]:
        calls.append(("merge", m.merged_id, None))
        return {"things": [1, 2, 3]}

    def on_unmerge(m: RecordMerge, moved: dict[str, Any]) -> None:
        calls.append(("unmerge", m.merged_id, moved))

    monkeypatch.setattr(merge_module, "_HOOKS", dict(merge_module._HOOKS))
    services.register_merge_hook("test", on_merge, on_unmerge)
    survivor, merged = pair
    result = merge(survivor, merged)
    assert result.moves["test"] == {"things": [1, 2, 3]}
    audit = AuditEntry.objects.filter(action="ledger.merge").order_by("-seq")[0]
    assert audit.details["counts"]["test.things"] == 3
    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert calls == [("merge", merged.pk, None), ("unmerge", merged.pk, {"things": [1, 2, 3]})]
    with pytest.raises(ValueError, match=r"the ledger.s own"):
        services.register_merge_hook("ledger", on_merge, on_unmerge)


def test_a_hook_that_refuses_the_undo_leaves_everything_merged(
    pair: tuple[Person, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from wangge.ledger.services import merge as merge_module

    def refuse(m: RecordMerge, moved: dict[str, Any]) -> None:
        raise Conflict("不行", code="hook_refused")

    monkeypatch.setattr(merge_module, "_HOOKS", dict(merge_module._HOOKS))
    services.register_merge_hook("test", lambda m: {}, refuse)
    survivor, merged = pair
    result = merge(survivor, merged)
    after = snapshot(survivor.pk, merged.pk)
    with pytest.raises(Conflict):
        services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    assert snapshot(survivor.pk, merged.pk) == after
    assert RecordMerge.objects.dangerously_unscoped().get(pk=result.pk).undone_at is None


def test_organisations_merge_and_unmerge() -> None:
    survivor = OrganisationFactory.create(grid_code=MINE, credit_code="", phone="", phone_index="")
    merged = OrganisationFactory.create(grid_code=NEXT, employees=30)
    code, phone = merged.credit_code, merged.phone
    result = services.merge_records(
        actor=who("demo-community"),
        kind="organisation",
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        reason="同一企业",
    )
    orgs = Organisation.objects.dangerously_unscoped()
    s, m = orgs.get(pk=survivor.pk), orgs.get(pk=merged.pk)
    assert (s.credit_code, s.phone, s.employees) == (code, phone, 12)
    assert m.credit_code == "" and m.merged_into_id == s.pk and m.retired_reason == "duplicate"
    assert "employees" in result.conflicts
    services.unmerge_records(actor=who("demo-community"), merge_id=result.pk, reason="误合并")
    s, m = orgs.get(pk=survivor.pk), orgs.get(pk=merged.pk)
    assert (s.credit_code, s.phone, m.credit_code, m.phone) == ("", "", code, phone)
    assert m.retired_on is None and m.merged_into_id is None


def test_selectors_list_a_records_merges(pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    grid = who("demo-community")
    assert [
        m.pk for m in selectors.merges_for_record(actor=grid, kind="person", record_id=survivor.pk)
    ] == [result.pk]
    assert [
        m.pk for m in selectors.merges_for_record(actor=grid, kind="person", record_id=merged.pk)
    ] == [result.pk]
    panel = selectors.merge_panel(actor=grid, kind="person", record=people().get(pk=merged.pk))
    assert panel["merged_into"].pk == survivor.pk
    summary = selectors.merge_summary(actor=grid, merge=result)
    assert summary["can_undo"] is True and summary["counts"]["sensitive_tags"] == 1
    assert (
        "sensitive_tags"
        not in selectors.merge_summary(actor=who("demo-grid"), merge=result)["counts"]
    )
    with pytest.raises(NotFound):
        selectors.merges_for_record(actor=who("demo-grid"), kind="person", record_id=merged.pk)


# -- pages and API ---------------------------------------------------------------------------


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def test_person_pages_show_the_merge_and_offer_the_undo(
    client: Client, pair: tuple[Person, Person]
) -> None:
    survivor, merged = pair
    result = merge(survivor, merged)
    login(client, "demo-community")
    page = client.get(f"/ledger/people/{merged.pk}/").content.decode()
    assert "已合并到" in page and f"/ledger/people/{survivor.pk}/" in page
    page = client.get(f"/ledger/people/{survivor.pk}/").content.decode()
    assert "合并记录" in page and f"/ledger/merges/{result.pk}/undo/" in page
    response = client.post(f"/ledger/merges/{result.pk}/undo/", {"reason": "误合并"})
    assert response.status_code == 302
    assert RecordMerge.objects.dangerously_unscoped().get(pk=result.pk).undone_at is not None
    # Without the right to undo: no form, and a POST is not found.
    other = merge(survivor, merged)
    login(client, "demo-grid")
    page = client.get(f"/ledger/people/{survivor.pk}/").content.decode()
    assert "合并记录" in page and f"/ledger/merges/{other.pk}/undo/" not in page
    assert client.post(f"/ledger/merges/{other.pk}/undo/", {"reason": "误合并"}).status_code == 404
    assert RecordMerge.objects.dangerously_unscoped().get(pk=other.pk).undone_at is None


def test_organisation_page_shows_the_merge(client: Client) -> None:
    survivor = OrganisationFactory.create(grid_code=MINE)
    merged = OrganisationFactory.create(grid_code=MINE)
    result = services.merge_records(
        actor=who("demo-grid"),
        kind="organisation",
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        reason="同一企业",
    )
    login(client, "demo-grid")
    page = client.get(f"/ledger/organisations/{merged.pk}/").content.decode()
    assert "已合并到" in page and f"/ledger/organisations/{survivor.pk}/" in page
    page = client.get(f"/ledger/organisations/{survivor.pk}/").content.decode()
    assert "合并记录" in page and f"/ledger/merges/{result.pk}/undo/" in page


def test_api_merge_get_and_undo(api_as: Any, pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    client = api_as("demo-community")
    body = {
        "kind": "person",
        "survivor_id": survivor.pk,
        "merged_id": merged.pk,
        "reason": "同一人",
    }
    response = client.post("/api/v1/ledger/merges", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["survivor_id"] == survivor.pk and "id_number" in data["filled"]
    assert merged.id_number not in response.content.decode()
    got = client.get(f"/api/v1/ledger/merges/{data['id']}").json()
    assert got["id"] == data["id"] and got["can_undo"] is True
    again = client.post("/api/v1/ledger/merges", body, content_type="application/json")
    assert again.status_code == 400 and again.json()["code"] == "retired"
    undo = client.post(
        f"/api/v1/ledger/merges/{data['id']}/undo",
        {"reason": "误合并"},
        content_type="application/json",
    )
    assert undo.status_code == 200 and undo.json()["undone_at"]
    twice = client.post(
        f"/api/v1/ledger/merges/{data['id']}/undo",
        {"reason": "误合并"},
        content_type="application/json",
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_undone"


def test_api_out_of_scope_is_not_found(api_as: Any, pair: tuple[Person, Person]) -> None:
    survivor, merged = pair
    client = api_as("demo-grid")
    body = {
        "kind": "person",
        "survivor_id": survivor.pk,
        "merged_id": merged.pk,
        "reason": "同一人",
    }
    response = client.post("/api/v1/ledger/merges", body, content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get("/api/v1/ledger/merges/999999").status_code == 404
    assert not RecordMerge.objects.dangerously_unscoped().exists()
    anonymous = Client().post("/api/v1/ledger/merges", body, content_type="application/json")
    assert anonymous.status_code == 401
