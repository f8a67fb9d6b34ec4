"""The people list as a table (issue 14 §4): sort by a whitelisted column with the id as the
last key, the room's address in the 地址 column, the Excel export in the list's order (masked,
audited), saved filters."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from wangge.core.models import AuditEntry, User
from wangge.core.scope import scope_for
from wangge.ledger import selectors
from wangge.ledger.models import Person
from wangge.ledger.tests.factories import PersonFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> list[Person]:
    room = RoomFactory.create()
    return [
        PersonFactory.create(
            name="乙", birth_date=dt.date(1950, 1, 1), room=room, current_address=""
        ),
        PersonFactory.create(name="甲", birth_date=dt.date(1990, 1, 1), current_address="手填地址"),
        PersonFactory.create(name="甲", birth_date=dt.date(1970, 1, 1)),
    ]


def names(sort: str, made: list[Person]) -> list[tuple[str, int]]:
    actor = scope_for(User.objects.get(username="demo-grid"))
    qs = selectors.person_list(actor=actor, sort=sort).filter(pk__in=[p.pk for p in made])
    return [(p.name, p.pk) for p in qs]


def test_people_sort_by_name_and_age_with_id_ties(people: list[Person]) -> None:
    first, second, third = people
    # By the characters (乙 U+4E59 before 甲 U+7532); equal names by id.
    assert names("name", people) == [("乙", first.pk), ("甲", second.pk), ("甲", third.pk)]
    assert names("-name", people) == list(reversed(names("name", people)))
    # Age up is the birth date down: the youngest first.
    assert [pk for _n, pk in names("age", people)] == [second.pk, third.pk, first.pk]
    # Not a sort key (an encrypted column, a made-up one): the default, by grid.
    assert names("id_number", people) == names("grid", people) == names("", people)


def test_the_address_column_shows_the_room(client_as: Any, people: list[Person]) -> None:
    body = client_as("demo-grid").get("/ledger/people/?sort=name").content.decode()
    cells = body.split('data-testid="address">')[1:]
    shown = [c.split("</td>")[0] for c in cells]
    assert str(people[0].room) in shown and "手填地址" in shown
    room = people[0].room
    assert room is not None and str(room).endswith("单元" + room.number)


def test_the_people_workbook_is_the_list_masked_in_its_order(
    client_as: Any, people: list[Person]
) -> None:
    from openpyxl import load_workbook

    response = client_as("demo-grid").get("/ledger/people/export.xlsx?sort=-age")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.values)
    assert rows[0][:2] == ("网格编码", "姓名")
    mine = {p.name for p in people}
    years = [r[3] for r in rows[1:]]
    assert years == sorted(years)  # oldest first: the list's order
    ours = [r for r in rows[1:] if r[1] in mine]
    assert [r[3] for r in ours] == ["1950", "1970", "1990"]  # the birth year only
    assert all("*" in r[4] for r in rows[1:])  # the ID number masked
    assert ours[0][7] == str(people[0].room)
    entry = AuditEntry.objects.filter(action="ledger.export.people").latest("seq")
    assert entry.details["format"] == "xlsx" and entry.details["rows"] == len(rows) - 1
    assert not entry.details["unmasked"]


def test_the_people_page_offers_sorting_and_saved_filters(
    client_as: Any, people: list[Person]
) -> None:
    client = client_as("demo-grid")
    body = client.get("/ledger/people/?sort=age&address=地址").content.decode()
    assert '<th data-sort="age" aria-sort="ascending">' in body
    assert 'name="sort" value="age"' in body  # the filter form keeps the sort
    assert "/ledger/people/export.xlsx?sort=age&amp;address=" in body
    response = client.post(
        "/filters/save/", {"list": "ledger.people", "name": "地址", "query": "address=地址"}
    )
    assert response["Location"] == "/ledger/people/?address=%E5%9C%B0%E5%9D%80"
    assert 'data-saved-filter="地址"' in client.get("/ledger/people/").content.decode()


def test_organisations_sort_and_export_masked_in_that_order(client_as: Any) -> None:
    from openpyxl import load_workbook

    from wangge.ledger.tests.factories import OrganisationFactory

    made = [OrganisationFactory.create(employees=n) for n in (30, 5, 12)]
    client = client_as("demo-grid")
    body = client.get("/ledger/organisations/?sort=-employees").content.decode()
    assert '<th data-sort="employees" aria-sort="descending">' in body
    assert 'data-testid="total"' in body
    response = client.get("/ledger/organisations/export.xlsx?sort=-employees")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.values)
    assert rows[0][1] == "名称"
    ours = [r for r in rows[1:] if r[1] in {o.name for o in made}]
    assert [r[6] for r in ours] == [30, 12, 5]
    assert all("****" in r[5] for r in ours)  # the phone masked
    entry = AuditEntry.objects.filter(action="ledger.export.organisations").latest("seq")
    assert entry.details["rows"] == len(rows) - 1 and entry.details["sort"] == "-employees"
    assert client_as("demo-auditor").get("/ledger/organisations/export.xlsx").status_code == 404
