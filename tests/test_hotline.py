"""Issue 14 §2: the 12345 hotline form searches the standard-address ledger and pins the
caller's location instead of asking for a grid code or offering the operator's GPS, and shows
the caller's earlier reports (same phone, through the blind index) to catch repeat calls."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core.models import AuditEntry, User
from wangge.core.scope import scope_for
from wangge.events.intake import Report, caller_index, event_report
from wangge.events.models import Event
from wangge.events.tests.conftest import MINE, OTHER
from wangge.ledger.models import Building

pytestmark = pytest.mark.django_db

CALLER = "13912345678"


def _call(username: str, grid: str, title: str, phone: str = CALLER) -> Event:
    from wangge.regions.selectors import interior_point_unscoped

    lon, lat = interior_point_unscoped(grid)
    actor = scope_for(User.objects.get(username=username))
    report = Report(
        category="0102",
        title=title,
        lon=lon,
        lat=lat,
        channel="hotline",
        reporter_name="王先生",
        reporter_phone=phone,
    )
    return event_report(actor, report).event


def test_the_form_asks_for_an_address_and_a_pin_not_a_grid_code_or_gps(client_as: Any) -> None:
    body = client_as("demo-street").get("/events/hotline/").content.decode()
    assert 'type="hidden" name="grid_code"' in body
    assert 'inputmode="numeric" value="" name="grid_code"' not in body
    assert "data-gps" not in body
    assert 'hx-get="/ledger/addresses/search/"' in body
    assert 'hx-post="/events/hotline/caller/"' in body


def test_the_phone_is_stored_with_its_blind_index_not_in_clear() -> None:
    event = _call("demo-street", MINE, "第一次来电")
    stored = Event.objects.dangerously_unscoped().filter(pk=event.pk).values("reporter_phone_index")
    assert stored.get()["reporter_phone_index"] == caller_index("+86 139-1234-5678")
    assert CALLER not in stored.get()["reporter_phone_index"]


def test_a_repeat_caller_sees_their_earlier_reports_in_scope_and_audited(client_as: Any) -> None:
    first = _call("demo-street", MINE, "楼道堆物第一次")
    second = _call("demo-street", MINE, "楼道堆物第二次")
    elsewhere = _call("demo-district", OTHER, "别的街道的来电")
    other_caller = _call("demo-street", MINE, "别人的来电", phone="13700001111")
    before = AuditEntry.objects.filter(action="search.exact").count()

    response = client_as("demo-street").post("/events/hotline/caller/", {"reporter_phone": CALLER})

    body = response.content.decode()
    assert response.status_code == 200
    assert first.number in body and second.number in body
    assert body.index(second.number) < body.index(first.number)  # newest first
    assert elsewhere.number not in body  # another street: outside demo-street's scope
    assert other_caller.number not in body
    assert "此前反映过 2 次" in body
    entries = AuditEntry.objects.filter(action="search.exact").order_by("-seq")
    assert entries.count() == before + 1
    assert entries[0].details == {"by": "phone"} and entries[0].object_type == "event"
    assert CALLER not in str(entries[0].details)


def test_a_part_of_a_number_finds_nothing_and_says_what_to_type(client_as: Any) -> None:
    _call("demo-street", MINE, "来电")
    body = client_as("demo-street").post("/events/hotline/caller/", {"reporter_phone": "1391234"})
    assert "请输入来电人的完整手机号码" in body.content.decode()


def test_a_role_that_may_not_reveal_may_not_look_callers_up(client_as: Any) -> None:
    response = client_as("demo-auditor").post("/events/hotline/caller/", {"reporter_phone": CALLER})
    assert response.status_code == 404


def test_the_address_search_finds_estates_and_buildings_in_scope(client_as: Any) -> None:
    mine = Building.objects.dangerously_unscoped().filter(grid_code=MINE).first()
    other = Building.objects.dangerously_unscoped().filter(grid_code=OTHER).first()
    assert mine is not None and other is not None
    page = client_as("demo-street")
    body = page.get("/ledger/addresses/search/", {"q": mine.estate.name}).content.decode()
    assert f'data-address="{mine.address}"' in body
    assert f'data-grid="{MINE}"' in body and "英南村第1网格" in body
    refused = page.get("/ledger/addresses/search/", {"q": other.estate.name}).content.decode()
    assert other.address not in refused
    assert "没有与" in refused  # says nothing matched, and to pin the map instead
    assert "至少两个字" in page.get("/ledger/addresses/search/", {"q": "小"}).content.decode()


def test_registering_at_the_chosen_address_places_the_event_in_its_grid(
    client_as: Any,
) -> None:
    building = Building.objects.dangerously_unscoped().filter(grid_code=MINE).first()
    assert building is not None
    response = client_as("demo-street").post(
        "/events/hotline/",
        {
            "channel": "hotline",
            "reporter_phone": CALLER,
            "address": building.address,
            "grid_code": building.grid_code,
            "lon": building.lon,
            "lat": building.lat,
            "category": "0102",
            "title": "按地址登记",
        },
    )
    assert response.status_code == 302
    event = Event.objects.dangerously_unscoped().get(title="按地址登记")
    assert (event.grid_code, event.address) == (MINE, building.address)
    assert event.reporter_phone_index == caller_index(CALLER)


def test_a_grid_worker_without_reveal_is_not_offered_the_look_up(client: Any) -> None:
    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    worker = user_with((Role.GRID_WORKER, MINE), username="hotline-worker")
    client.force_login(worker)
    assert "hotline/caller" not in client.get("/events/hotline/").content.decode()
    refused = client.post("/events/hotline/caller/", {"reporter_phone": CALLER})
    assert refused.status_code == 403
