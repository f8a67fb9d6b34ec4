"""The ledger's write services: add, correct, move, retire, households — scoped, versioned,
validated like the import, and logged by field name."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.roles import Role
from wangge.core.scope import Scope, scope_for
from wangge.core.tests.factories import user_with
from wangge.ledger import services
from wangge.ledger.models import Household, LedgerChange, Person, Referral, SensitiveTag
from wangge.ledger.selectors import person_list, referral_list
from wangge.ledger.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"  # demo-grid's grid
NEXT = "440704003001002"  # the same community, another grid
OTHER = "440704001001001"  # another street
NEW_ID = "11010519491231002X"  # check-valid, born 1949-12-31, female


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def unscoped() -> Any:
    return Person.objects.dangerously_unscoped()


def test_create_parses_like_the_import_and_logs_field_names() -> None:
    person = services.person_create(
        actor=who("demo-grid"),
        values={"name": "王小红", "id_number": NEW_ID.lower(), "phone": "+86 139 0000 1111"},
        grid_code=MINE,
    )
    stored = unscoped().get(pk=person.pk)
    assert (stored.id_number, stored.phone, stored.gender) == (NEW_ID, "13900001111", "female")
    assert stored.birth_date.isoformat() == "1949-12-31" and stored.version == 1
    change = LedgerChange.objects.dangerously_unscoped().get(kind="person", record_id=person.pk)
    assert change.action == "create" and "id_number" in change.fields
    entry = AuditEntry.objects.filter(action="person.create").order_by("-seq")[0]
    assert entry.object_id == str(person.pk) and NEW_ID not in str(entry.details)


def test_bad_values_are_refused_per_field_with_the_import_messages() -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.person_create(
            actor=who("demo-grid"),
            values={"name": "", "id_number": "110105194912310021", "gender": "男人"},
            grid_code=MINE,
        )
    fields = {f["field"]: f["code"] for f in caught.value.details["fields"]}
    assert fields == {"name": "required", "id_number": "id_check", "gender": "invalid_choice"}
    assert not unscoped().filter(name="").exists()


def test_a_stale_update_is_refused_naming_the_fields_changed_since() -> None:
    person = PersonFactory.create(grid_code=MINE)
    grid = who("demo-grid")
    services.person_update(actor=grid, person_id=person.pk, version=1, values={"employer": "某厂"})
    with pytest.raises(Conflict) as caught:
        services.person_update(
            actor=grid, person_id=person.pk, version=1, values={"occupation": "工人"}
        )
    assert caught.value.details == {"current_version": 2, "changed_fields": ["employer"]}
    assert unscoped().get(pk=person.pk).occupation == ""
    fresh = services.person_update(
        actor=grid, person_id=person.pk, version=2, values={"occupation": "工人"}
    )
    assert fresh.version == 3


def test_outside_the_scope_is_not_found_and_nothing_changes() -> None:
    other = PersonFactory.create(grid_code=OTHER)
    with pytest.raises(NotFound):
        services.person_update(
            actor=who("demo-grid"), person_id=other.pk, version=1, values={"name": "改名"}
        )
    with pytest.raises(NotFound):
        services.person_retire(
            actor=who("demo-grid"), person_id=other.pk, version=1, reason="deceased"
        )
    assert unscoped().get(pk=other.pk).name == other.name
    with pytest.raises(ValidationFailed) as caught:
        services.person_create(
            actor=who("demo-grid"), values={"name": "甲", "id_number": NEW_ID}, grid_code=OTHER
        )
    assert caught.value.code == "unknown_grid"


def test_the_same_id_number_in_scope_names_the_person() -> None:
    existing = PersonFactory.create(grid_code=MINE)
    with pytest.raises(Conflict) as caught:
        services.person_create(
            actor=who("demo-community"),
            values={"name": "别名", "id_number": existing.id_number},
            grid_code=NEXT,
        )
    assert caught.value.code == "duplicate" and caught.value.details == {"id": existing.pk}


def test_the_same_id_number_elsewhere_is_referred_without_saying_so() -> None:
    """Security finding 9: a grid worker must not learn that a number is registered elsewhere."""
    elsewhere = PersonFactory.create(grid_code=OTHER)
    before = unscoped().count()
    with pytest.raises(services.Referred) as caught:
        services.person_create(
            actor=who("demo-grid"),
            values={"name": "张三", "id_number": elsewhere.id_number},
            grid_code=MINE,
        )
    assert caught.value.status == 202 and caught.value.details is None
    assert OTHER not in caught.value.message and elsewhere.name not in caught.value.message
    assert unscoped().count() == before
    referral = Referral.objects.dangerously_unscoped().get()
    assert (referral.kind, referral.existing_id, referral.grid_code) == (
        "person",
        elsewhere.pk,
        MINE,
    )
    from django.db import connection

    with connection.cursor() as cursor:  # the entry is kept encrypted
        cursor.execute("SELECT payload FROM ledger_referral WHERE id = %s", [referral.pk])
        assert elsewhere.id_number not in cursor.fetchone()[0]
    assert elsewhere.id_number in referral.payload
    assert list(referral_list(actor=who("demo-district"))) == [referral]
    with pytest.raises(NotFound):
        referral_list(actor=who("demo-street"))


def test_possible_duplicates_are_offered_and_confirming_adds() -> None:
    existing = PersonFactory.create(grid_code=MINE, phone="13911112222")
    values = {"name": "另一人", "id_number": NEW_ID, "phone": "13911112222"}
    with pytest.raises(Conflict) as caught:
        services.person_create(actor=who("demo-grid"), values=values, grid_code=MINE)
    assert caught.value.code == "possible_duplicate"
    assert [c["id"] for c in caught.value.details["candidates"]] == [existing.pk]
    made = services.person_create(
        actor=who("demo-grid"), values=values, grid_code=MINE, confirm_new=True
    )
    assert made.pk != existing.pk


def test_special_groups_are_written_only_by_those_who_may_see_them() -> None:
    """Security finding 12: writing a special-group tag needs ledger.sensitive."""
    values = {"name": "乙", "id_number": NEW_ID, "special_tags": ["drug"]}
    with pytest.raises(PermissionDenied):
        services.person_create(actor=who("demo-grid"), values=values, grid_code=MINE)
    assert not unscoped().filter(name="乙").exists()
    person = PersonFactory.create(grid_code=MINE)
    with pytest.raises(PermissionDenied):
        services.person_update(
            actor=who("demo-grid"), person_id=person.pk, version=1, values={"special_tags": []}
        )
    made = services.person_create(actor=who("demo-community"), values=values, grid_code=MINE)
    assert SensitiveTag.objects.dangerously_unscoped().filter(person=made).count() == 1


def test_move_needs_both_grids_and_takes_the_tags_along() -> None:
    person = PersonFactory.create(grid_code=MINE)
    SensitiveTag.objects.create(person=person, grid_code=MINE, tag="released", tag_index="x")
    with pytest.raises(ValidationFailed):
        services.person_move(
            actor=who("demo-community"), person_id=person.pk, version=1, grid_code=OTHER
        )
    moved = services.person_move(
        actor=who("demo-community"), person_id=person.pk, version=1, grid_code=NEXT
    )
    assert moved.grid_code == NEXT and moved.version == 2
    assert SensitiveTag.objects.dangerously_unscoped().get(person=person).grid_code == NEXT
    with pytest.raises(NotFound):  # demo-grid does not see grid 2 of 英南村
        services.person_update(
            actor=who("demo-grid"), person_id=person.pk, version=2, values={"name": "丙"}
        )


def test_retired_people_leave_the_lists_and_keep_their_record() -> None:
    person = PersonFactory.create(grid_code=MINE)
    grid = who("demo-grid")
    with pytest.raises(ValidationFailed):
        services.person_retire(actor=grid, person_id=person.pk, version=1, reason="bored")
    services.person_retire(
        actor=grid, person_id=person.pk, version=1, reason="moved_away", note="去外地"
    )
    assert person.pk not in set(person_list(actor=grid).values_list("pk", flat=True))
    assert person.pk in set(person_list(actor=grid, retired=True).values_list("pk", flat=True))
    restored = services.person_restore(actor=grid, person_id=person.pk, version=2)
    assert restored.retired_on is None and restored.version == 3


def test_households_members_and_head() -> None:
    grid = who("demo-grid")
    head, spouse = PersonFactory.create(grid_code=MINE), PersonFactory.create(grid_code=MINE)
    household = services.household_create(actor=grid, code="H-TEST-1", head_id=head.pk)
    household = services.household_add_member(
        actor=grid, household_id=household.pk, version=1, person_id=spouse.pk, relation="配偶"
    )
    with pytest.raises(ValidationFailed):
        services.household_remove_member(
            actor=grid, household_id=household.pk, version=2, person_id=head.pk
        )
    services.household_set_head(
        actor=grid, household_id=household.pk, version=2, person_id=spouse.pk
    )
    stored = Household.objects.dangerously_unscoped().get(pk=household.pk)
    assert stored.head_id == spouse.pk and stored.version == 3
    services.household_remove_member(
        actor=grid, household_id=household.pk, version=3, person_id=head.pk
    )
    assert unscoped().get(pk=head.pk).household_id is None


def test_a_household_number_from_elsewhere_cannot_be_used_or_joined() -> None:
    """Security finding 8 (services): another street's household is neither joined nor named."""
    elsewhere = Household.objects.dangerously_unscoped().filter(grid_code__startswith="440704001")[
        0
    ]
    person = PersonFactory.create(grid_code=MINE)
    with pytest.raises(ValidationFailed) as caught:
        services.household_create(actor=who("demo-grid"), code=elsewhere.code, head_id=person.pk)
    assert caught.value.code == "code_taken" and OTHER[:9] not in caught.value.message
    with pytest.raises(NotFound):
        services.household_add_member(
            actor=who("demo-grid"),
            household_id=elsewhere.pk,
            version=1,
            person_id=person.pk,
            relation="",
        )


def test_one_grant_decides_for_its_own_grid() -> None:
    """A user who may edit grid 1 and only view things district-wide edits no thing elsewhere."""
    from wangge.ledger.models import Thing

    user = user_with((Role.GRID_WORKER, MINE), (Role.DEPARTMENT_OFFICER, "440704", "chengguan"))
    elsewhere = Thing.objects.dangerously_unscoped().filter(grid_code=OTHER)[0]
    with pytest.raises(PermissionDenied):
        services.thing_update(
            actor=user, thing_id=elsewhere.pk, version=1, values={"state": "damaged"}
        )
    mine = Thing.objects.dangerously_unscoped().filter(grid_code=MINE)[0]
    assert (
        services.thing_update(
            actor=user, thing_id=mine.pk, version=1, values={"state": "damaged"}
        ).state
        == "damaged"
    )


def test_organisations_things_and_addresses() -> None:
    from wangge.ledger.models import Estate, Organisation
    from wangge.ledger.tests.factories import credit_code
    from wangge.regions.selectors import interior_point_unscoped

    grid = who("demo-grid")
    lon, lat = interior_point_unscoped(MINE)
    org = services.organisation_create(
        actor=grid,
        values={"name": "新开小卖部", "kind": "个体工商户", "credit_code": credit_code(99_001)},
        lon=lon,
        lat=lat,
    )
    assert (org.grid_code, org.kind) == (MINE, "individual")
    taken = Organisation.objects.dangerously_unscoped().filter(grid_code=OTHER)[0]
    with pytest.raises(ValidationFailed) as caught:
        services.organisation_update(
            actor=grid, organisation_id=org.pk, version=1, values={"credit_code": taken.credit_code}
        )
    assert caught.value.code == "credit_code_taken" and taken.name not in caught.value.message
    services.organisation_retire(actor=grid, organisation_id=org.pk, version=1, reason="closed")
    thing = services.thing_create(
        actor=grid, values={"code": "4407040101999999", "name": "消火栓"}, lon=lon, lat=lat
    )
    assert (thing.major, thing.minor, thing.grid_code) == ("01", "01", MINE)
    estate = services.estate_create(
        actor=grid, code=MINE[:12] + "777", name="新小区", grid_code=MINE
    )
    building = services.building_create(
        actor=grid,
        estate_id=estate.pk,
        number="001",
        values={"building_name": "1栋", "address": "新小区1栋"},
        lon=lon,
        lat=lat,
    )
    room = services.room_create(
        actor=grid, building_id=building.pk, values={"unit": 1, "floor": 3, "number": "302"}
    )
    assert room.code == building.code + "010302"
    other_estate = Estate.objects.dangerously_unscoped().filter(grid_code=OTHER)[0]
    with pytest.raises(NotFound):  # another street's estate is looked up only in scope
        services.building_create(
            actor=grid,
            estate_id=other_estate.pk,
            number="009",
            values={"building_name": "x", "address": "x"},
            lon=lon,
            lat=lat,
        )


def test_the_system_scope_is_not_a_default() -> None:
    with pytest.raises(NotFound):
        services.person_update(
            actor=Scope(user_id=None, username="x", grants=()), person_id=1, version=1, values={}
        )
