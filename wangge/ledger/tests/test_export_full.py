"""`wangge ledger export people`: the operator's full export — every current person with the
full ID number, audited with the reason, refused without one, read in batches."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import DjangoAssertNumQueries

from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.ledger import services
from wangge.ledger.models import Person
from wangge.ledger.services.exports import FULL_EXPORT_HEADERS
from wangge.ledger.tests.factories import HouseholdFactory, PersonFactory, RoomFactory

pytestmark = pytest.mark.django_db

MINE = "440704003001001"


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # UTF-8 with BOM, for Excel
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_command_writes_every_current_person_with_the_full_id_number(tmp_path: Path) -> None:
    room = RoomFactory.create()
    household = HouseholdFactory.create(grid_code=MINE, room=room)
    person = PersonFactory.create(
        grid_code=MINE,
        name="=HYPERLINK(1)",
        room=room,
        household=household,
        relation="户主",
        care_tags="elderly_alone,chronic",
        registered_address="江门市江海区礼乐街道\n五坊大街3号",
    )
    gone = PersonFactory.create(grid_code=MINE, retired_on="2024-01-01", retired_reason="deceased")
    out = tmp_path / "people.csv"
    before = AuditEntry.objects.count()

    call_command("ledger", "export", "people", "--out", str(out), "--reason", "市级平台对接核对")

    rows = read(out)
    assert list(rows[0]) == FULL_EXPORT_HEADERS
    current = Person.objects.dangerously_unscoped().filter(retired_on__isnull=True)
    assert [int(r["person_id"]) for r in rows] == list(
        current.order_by("pk").values_list("pk", flat=True)
    )
    mine = next(r for r in rows if r["person_id"] == str(person.pk))
    assert mine["id_number"] == person.id_number and mine["phone"] == person.phone
    assert person.birth_date is not None
    assert mine["birth_date"] == person.birth_date.isoformat()
    assert mine["name"] == "'=HYPERLINK(1)"  # a text cell cannot run as a formula
    assert (mine["room_code"], mine["household_code"]) == (room.code, household.code)
    assert mine["care_tags"] == "elderly_alone,chronic"
    assert mine["registered_address"] == "江门市江海区礼乐街道\n五坊大街3号"
    assert str(gone.pk) not in {r["person_id"] for r in rows}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [e.action for e in entries] == ["ledger.export_full"]
    assert entries[0].details == {"reason": "市级平台对接核对", "rows": len(rows)}


def test_without_a_reason_it_refuses_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "people.csv"
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("ledger", "export", "people", "--out", str(out))
    assert "--reason" in str(caught.value)
    with pytest.raises(CommandError):
        call_command("ledger", "export", "people", "--out", str(out), "--reason", "查")
    assert not out.exists() and AuditEntry.objects.count() == before


def test_batches_give_the_same_file_as_one_read() -> None:
    system = Scope.system("test-export")
    whole = "".join(services.people_export_full(actor=system, reason="核对数据").lines)
    export = services.people_export_full(actor=system, reason="核对数据", batch=3)
    assert "".join(export.lines) == whole
    assert export.rows == len(whole.splitlines()) - 1


def test_batches_bound_the_rows_read_at_once(
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    system = Scope.system("test-export")
    export = services.people_export_full(actor=system, reason="核对数据", batch=5)
    # One query per batch of five (rooms and households joined in), plus the empty last one.
    with django_assert_max_num_queries(export.rows // 5 + 2):
        lines = list(export.lines)
    assert len(lines) == (export.rows + 4) // 5 + 1  # the header, then one chunk per batch


def test_a_user_gets_only_the_people_a_reveal_grant_covers() -> None:
    grid = scope_for(User.objects.get(username="demo-grid"))
    text = "".join(services.people_export_full(actor=grid, reason="核对本网格").lines)
    grids = {r["grid_code"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert grids == {MINE}
    with pytest.raises(PermissionDenied):
        services.people_export_full(
            actor=scope_for(User.objects.get(username="demo-dept")), reason="核对数据"
        )
    with pytest.raises(ValidationFailed):
        services.people_export_full(actor=grid, reason=" ")
