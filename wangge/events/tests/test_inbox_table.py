"""The inbox as a table people work with (issue 14 §4): sorting by whitelisted keys with the
id as the last key, page size and page jump, the Excel export of what the table shows
(scoped, audited), saved filters, the closed box's dates and "已超期 N 天"."""

from __future__ import annotations

import io
from typing import Any

import pytest

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import AuditEntry, SavedFilter, User
from wangge.core.scope import Scope, scope_for
from wangge.events import selectors, services
from wangge.events.models import Event
from wangge.events.tests.conftest import MINE, OTHER
from wangge.events.workflow import transition

pytestmark = pytest.mark.django_db


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


@pytest.fixture
def events(report: Any) -> list[Event]:
    made = [report(username="demo-district", grid=grid, category="0101") for grid in (OTHER, MINE)]
    made += [report(category="0102") for _ in range(3)]  # same grid, same deadline: ties
    return made


def ids(qs: Any) -> list[int]:
    return list(qs.values_list("pk", flat=True))


def test_sorting_by_a_key_breaks_ties_by_id_in_the_same_direction(events: list[Event]) -> None:
    actor = who("demo-district")
    up = ids(selectors.event_list(actor=actor, sort="grid"))
    rows = {e.pk: e for e in Event.objects.dangerously_unscoped()}
    assert up == sorted(rows, key=lambda pk: (rows[pk].grid_code, pk))
    down = ids(selectors.event_list(actor=actor, sort="-grid"))
    assert down == list(reversed(up))
    assert ids(selectors.event_list(actor=actor, sort="-grid")) == down  # stable


def test_an_unknown_sort_is_the_box_default_never_a_field(events: list[Event]) -> None:
    actor = who("demo-district")
    default = ids(selectors.event_list(actor=actor, box="all", sort=""))
    assert default == sorted(default, reverse=True)  # newest number first
    for bad in ("reporter_phone", "--grid", "-", "category__department__name", "id; drop"):
        assert ids(selectors.event_list(actor=actor, box="all", sort=bad)) == default
    due = ids(selectors.event_list(actor=actor, box="todo", sort="nonsense"))
    assert due == ids(selectors.event_list(actor=actor, box="todo", sort="due"))


def test_the_page_sorts_pages_and_jumps(client_as: Any, events: list[Event]) -> None:
    client = client_as("demo-district")
    body = client.get("/events/?box=all&sort=-grid&size=20").content.decode()
    assert '<th data-sort="grid" aria-sort="descending">' in body
    assert 'href="?box=all&amp;sort=grid&amp;size=20"' in body  # toggles, keeps the size
    assert 'data-testid="total"' in body
    first = client.get("/events/?box=all&size=20&page=1").content.decode()
    assert '<option value="20" selected>' in first
    # A page past the end is the last one; a size not offered is the default.
    assert client.get("/events/?box=all&page=999").status_code == 200
    assert client.get("/events/?box=all&size=7").status_code == 200


def test_the_export_is_the_table_in_its_order_scoped_and_audited(
    client_as: Any, events: list[Event]
) -> None:
    from openpyxl import load_workbook

    response = client_as("demo-grid").get("/events/export.xlsx?box=all&sort=-number")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "标题", "大类")
    numbers = [r[0] for r in rows[1:]]
    expected = selectors.event_list(actor=who("demo-grid"), box="all", sort="-number")
    assert numbers == [e.number for e in expected]  # the grid's own events only, in order
    assert all(r[5] == MINE for r in rows[1:]) and rows[1][4] == "英南村第1网格"
    entry = AuditEntry.objects.filter(action="event.export").latest("seq")
    assert entry.details["rows"] == len(numbers) and entry.details["box"] == "all"
    assert entry.details["sort"] == "-number"


def test_the_export_refuses_outsiders_and_says_why_when_too_big(
    client_as: Any, events: list[Event], monkeypatch: Any
) -> None:
    assert client_as(None).get("/events/export.xlsx").status_code == 302  # to the login
    assert client_as("demo-auditor").get("/events/export.xlsx").status_code == 404
    monkeypatch.setattr(services, "EVENTS_EXPORT_MAX_ROWS", 1)
    with pytest.raises(ValidationFailed):
        services.events_export(actor=who("demo-district"), box="all")
    page = client_as("demo-district").get("/events/export.xlsx?box=all", follow=True)
    assert "超出一个工作簿的上限" in page.content.decode()


def test_the_closed_box_shows_the_close_date_and_the_deadline_held_to(
    client_as: Any, report: Any
) -> None:
    district = who("demo-district")
    event = transition(district, report(category="0101"), "dispatch", department="chengguan")
    event = transition(who("demo-dept"), event, "report", note="已处置")
    event = transition(who("demo-grid"), event, "verify", passed=True)
    event = transition(district, event, "close")
    body = client_as("demo-district").get("/events/?box=closed").content.decode()
    row = body.split(f'data-event="{event.pk}"')[1].split("</tr>")[0]
    assert event.handle_due_at is not None
    assert 'data-testid="closed-at"' in row and "按期" in row
    assert "—" not in row


def test_overdue_rows_say_how_late(client_as: Any, report: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    event = report(category="0101")
    late = timezone.now() - dt.timedelta(days=69, hours=2)
    Event.objects.dangerously_unscoped().filter(pk=event.pk).update(due_at=late, overdue=True)
    body = client_as("demo-district").get("/events/?box=overdue").content.decode()
    row = body.split(f'data-event="{event.pk}"')[1].split("</tr>")[0]
    assert "已超期 69 天" in row


def test_saved_filters_are_the_owners_without_page_or_full_numbers(
    client_as: Any, events: list[Event]
) -> None:
    from wangge.core import selectors as core_selectors
    from wangge.core import services as core_services

    grid = who("demo-grid")
    saved = core_services.saved_filter_save(
        actor=grid,
        list_name="events.inbox",
        name="  我的  超期 ",
        query="box=overdue&page=3&q=13800138000&sort=-due",
    )
    assert (saved.name, saved.query) == ("我的 超期", "box=overdue&sort=-due")
    assert [f.name for f in core_selectors.saved_filters(actor=grid, list_name="events.inbox")] == [
        "我的 超期"
    ]
    assert core_selectors.saved_filters(actor=who("demo-district"), list_name="events.inbox") == []
    with pytest.raises(NotFound):  # another's filter is not found
        core_services.saved_filter_delete(
            actor=who("demo-district"), list_name="events.inbox", filter_id=saved.pk
        )
    with pytest.raises(NotFound):  # the auditor has no inbox
        core_selectors.saved_filters(actor=who("demo-auditor"), list_name="events.inbox")
    with pytest.raises(ValidationFailed):
        core_services.saved_filter_save(
            actor=grid, list_name="events.inbox", name="x", query="page=2"
        )
    # The page lists it as a link, and saving again by name replaces it.
    client = client_as("demo-grid")
    assert 'href="?box=overdue&amp;sort=-due"' in client.get("/events/").content.decode()
    response = client.post(
        "/filters/save/", {"list": "events.inbox", "name": "我的 超期", "query": "box=closed"}
    )
    assert response.status_code == 302 and response["Location"] == "/events/?box=closed"
    assert SavedFilter.objects.dangerously_unscoped().get(pk=saved.pk).query == "box=closed"
    client.post(f"/filters/{saved.pk}/delete/", {"list": "events.inbox"})
    assert not SavedFilter.objects.dangerously_unscoped().filter(pk=saved.pk).exists()
    assert AuditEntry.objects.filter(action="saved_filter.delete").exists()
    assert client.post("/filters/save/", {"list": "nope"}).status_code == 404
