"""Authorisation matrix for events: anonymous, no events role, out of scope, in scope without
the role, in scope with it — for pages and API; department queues, workflow roles and rules,
configuration, notifications and the reporter's personal data."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings

from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.events import services, workflow
from wangge.events.models import CalendarDay, Category, Event, EventAction, EventPhoto, Notification
from wangge.events.selectors import BOXES, SHOULD_CLOSE
from wangge.events.tests.conftest import MINE, OTHER, tiny_png

pytestmark = pytest.mark.django_db

LILE = "440704003"  # demo-street's street (礼乐街道)
NAME, PHONE = "王小明", "13912345678"


PNG = tiny_png()

Report = Callable[..., Event]


def unscoped() -> Any:
    return Event.objects.dangerously_unscoped()


def fresh(event: Event) -> Event:
    return unscoped().get(pk=event.pk)


def scope(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def act(client: Any, event: Event | int, action: str, **payload: Any) -> Any:
    event_id = event.pk if isinstance(event, Event) else event
    return client.post(
        f"/api/v1/events/{event_id}/actions/{action}", payload, content_type="application/json"
    )


def dispatch(event: Event, department: str) -> Event:
    return workflow.transition(scope("demo-district"), event, "dispatch", department=department)


def missing_id() -> int:
    last = unscoped().order_by("-id").values_list("id", flat=True).first() or 0
    return last + 100_000


def without_csrf(body: bytes) -> str:
    """A page's HTML without the per-render CSRF token (masked differently on every render)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body.decode())


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def snapshot(event: Event) -> tuple[str, int, str, int]:
    current = fresh(event)
    return (
        current.status,
        current.version,
        current.department_code,
        EventAction.objects.dangerously_unscoped().filter(event=current).count(),
    )


# -- anonymous, and a user without any events role -----------------------------------------------

PAGES = [
    "/events/",
    "/events/{id}/",
    "/events/report/",
    "/events/hotline/",
    "/events/indicators/",
    "/events/notifications/",
    "/events/calendar/",
    "/events/categories/",
]
API = [
    "/api/v1/events",
    "/api/v1/events/{id}",
    "/api/v1/events-indicators",
    "/api/v1/event-categories",
    "/api/v1/notifications",
    "/api/v1/calendar?year=2026&month=10",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_anonymous_go_to_login(client_as: Any, report: Report, url: str) -> None:
    event = report()
    response = client_as(None).get(url.format(id=event.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_pages_in_scope_with_the_role(client_as: Any, report: Report, url: str) -> None:
    event = report()
    assert client_as("demo-street").get(url.format(id=event.pk)).status_code == 200


@pytest.mark.parametrize("url", ["/events/public/report/", "/events/public/track/"])
def test_public_pages_need_no_login(client_as: Any, url: str) -> None:
    assert client_as(None).get(url).status_code == 200


@pytest.mark.parametrize("url", API)
def test_api_anonymous_401(api_as: Any, report: Report, url: str) -> None:
    event = report()
    response = api_as(None).get(url.format(id=event.pk))
    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize("url", API)
def test_api_in_scope_with_the_role(api_as: Any, report: Report, url: str) -> None:
    event = report()
    assert api_as("demo-street").get(url.format(id=event.pk)).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_pages_without_an_events_role_are_404(client_as: Any, report: Report, url: str) -> None:
    event = report()
    assert client_as("demo-auditor").get(url.format(id=event.pk)).status_code == 404


@pytest.mark.parametrize("url", API)
def test_api_without_an_events_role_is_404(api_as: Any, report: Report, url: str) -> None:
    event = report()
    assert_error(api_as("demo-auditor").get(url.format(id=event.pk)), 404, "not_found")


def test_without_an_events_role_nothing_is_written(
    api_as: Any, client_as: Any, report: Report, point: Any
) -> None:
    event = report()
    before = snapshot(event)
    auditor = api_as("demo-auditor")
    assert_error(act(auditor, event, "self_resolve"), 404, "not_found")
    lon, lat = point(MINE)
    created = auditor.post(
        "/api/v1/events",
        {"category": "0102", "title": "审计员上报", "lon": lon, "lat": lat},
        content_type="application/json",
    )
    assert_error(created, 404, "not_found")
    assert not unscoped().filter(title="审计员上报").exists()
    assert client_as("demo-auditor").post(f"/events/{event.pk}/act/self_resolve/").status_code == (
        404
    )
    assert snapshot(event) == before


def test_department_officer_cannot_report(api_as: Any, client_as: Any, point: Any) -> None:
    lon, lat = point(MINE)
    response = api_as("demo-dept").post(
        "/api/v1/events",
        {"category": "0102", "title": "部门上报", "lon": lon, "lat": lat},
        content_type="application/json",
    )
    assert_error(response, 404, "not_found")
    assert not unscoped().filter(title="部门上报").exists()
    assert client_as("demo-dept").get("/events/report/").status_code == 404
    assert client_as("demo-dept").get("/events/hotline/").status_code == 404


# -- out of scope: the same 404 as a missing id ----------------------------------------------------


@pytest.mark.parametrize("username", ["demo-street", "demo-community", "demo-grid"])
def test_out_of_scope_is_the_same_404_as_missing(
    api_as: Any, client_as: Any, report: Report, system: Scope, username: str
) -> None:
    other = report(username="demo-district", grid=OTHER, reporter_phone=PHONE)
    photo = services.photos_add(actor=system, event=other, files=[PNG], stage="report")[0]
    before = snapshot(other)
    gone = missing_id()
    api, page = api_as(username), client_as(username)

    def api_pair(method: str, path: str, **kw: Any) -> None:
        answers = [getattr(api, method)(path.format(id=i), **kw) for i in (other.pk, gone)]
        for response in answers:
            assert_error(response, 404, "not_found")
        assert answers[0].content == answers[1].content

    def page_pair(method: str, path: str, data: dict[str, str] | None = None) -> None:
        answers = [getattr(page, method)(path.format(id=i), data or {}) for i in (other.pk, gone)]
        assert [r.status_code for r in answers] == [404, 404]
        assert without_csrf(answers[0].content) == without_csrf(answers[1].content)

    api_pair("get", "/api/v1/events/{id}")
    api_pair("post", "/api/v1/events/{id}/actions/accept", data={}, content_type="application/json")
    api_pair(
        "post",
        "/api/v1/events/{id}/actions/close_special",
        data={"reason": "越权关闭", "kind": "erroneous"},
        content_type="application/json",
    )
    api_pair(
        "post",
        "/api/v1/events/{id}/reveal",
        data={"field": "reporter_phone", "reason": "越权查看号码"},
        content_type="application/json",
    )
    api_pair("get", "/api/v1/events/{id}/photos/" + str(photo.pk))
    from django.core.files.uploadedfile import SimpleUploadedFile

    for i in (other.pk, gone):
        upload = SimpleUploadedFile("x.png", PNG, content_type="image/png")
        response = api.post(f"/api/v1/events/{i}/photos", {"files": [upload]})
        assert_error(response, 404, "not_found")

    page_pair("get", "/events/{id}/")
    page_pair("post", "/events/{id}/act/close_special/", {"reason": "越权", "kind": "special"})
    page_pair("post", "/events/{id}/reveal/", {"field": "reporter_phone", "reason": "越权查看"})

    assert snapshot(other) == before
    assert EventPhoto.objects.dangerously_unscoped().filter(event=other).count() == 1
    assert not AuditEntry.objects.filter(
        action="personal.reveal", object_type="event", object_id=str(other.pk)
    ).exists()


def test_out_of_scope_events_are_not_listed(api_as: Any, report: Report) -> None:
    other = report(username="demo-district", grid=OTHER, title="江南街道的事件")
    for username in ("demo-street", "demo-community", "demo-grid"):
        body = api_as(username).get("/api/v1/events?q=江南街道的事件").json()
        assert body == {"count": 0, "items": [], "next_before": None}
    body = api_as("demo-district").get("/api/v1/events?q=江南街道的事件").json()
    assert [e["id"] for e in body["items"]] == [other.pk]


# -- a department officer sees only what is dispatched to its department --------------------------


def test_department_officer_sees_only_its_departments_events(
    api_as: Any, client_as: Any, report: Report
) -> None:
    ours = dispatch(report(username="demo-district", category="0101", title="派城管"), "chengguan")
    theirs = dispatch(report(username="demo-district", category="0101", title="派应急"), "yingji")
    undispatched = report(username="demo-district", category="0101", title="未派遣")
    pending = report(username="demo-district", category="0101", title="待受理", channel="hotline")
    assert (ours.status, theirs.status, undispatched.status, pending.status) == (
        "dispatched",
        "dispatched",
        "filed",
        "pending",
    )
    api = api_as("demo-dept")
    for box in BOXES:
        body = api.get(f"/api/v1/events?box={box}&limit=500").json()
        assert all(e["department_code"] == "chengguan" for e in body["items"]), box
        ids = {e["id"] for e in body["items"]}
        assert not ids & {theirs.pk, undispatched.pk, pending.pk}, box
    everything = api.get("/api/v1/events?box=all&limit=500").json()
    assert everything["count"] == unscoped().filter(department_code="chengguan").count()
    assert ours.pk in {e["id"] for e in everything["items"]}
    queue = api.get("/api/v1/events?box=department&limit=500").json()
    assert ours.pk in {e["id"] for e in queue["items"]}

    assert api.get(f"/api/v1/events/{ours.pk}").status_code == 200
    for hidden in (theirs, undispatched, pending):
        assert_error(api.get(f"/api/v1/events/{hidden.pk}"), 404, "not_found")
        assert client_as("demo-dept").get(f"/events/{hidden.pk}/").status_code == 404
    inbox = client_as("demo-dept").get("/events/?box=all").content.decode()
    assert "派城管" in inbox and "派应急" not in inbox and "未派遣" not in inbox


def test_department_officer_loses_an_event_it_returns(
    api_as: Any, client_as: Any, report: Report
) -> None:
    event = dispatch(report(username="demo-district", category="0101"), "chengguan")
    api = api_as("demo-dept")
    assert api.get(f"/api/v1/events/{event.pk}").status_code == 200
    response = act(api, event, "return", reason="不属于城管职责")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["department_code"]) == ("returned", "")
    assert_error(api.get(f"/api/v1/events/{event.pk}"), 404, "not_found")
    assert client_as("demo-dept").get(f"/events/{event.pk}/").status_code == 404
    ids = {e["id"] for e in api.get("/api/v1/events?box=all&limit=500").json()["items"]}
    assert event.pk not in ids
    # ... and it is back with the command centre.
    assert api_as("demo-street").get(f"/api/v1/events/{event.pk}").json()["event"]["status"] == (
        "returned"
    )


def test_department_officer_cannot_accept_or_dispatch(api_as: Any, report: Report) -> None:
    event = dispatch(report(username="demo-district", category="0101"), "chengguan")
    pending = report(username="demo-district", category="0101", channel="hotline")
    api = api_as("demo-dept")
    before, pending_before = snapshot(event), snapshot(pending)
    # Visible (dispatched to its department) but not its to command: 403.
    assert_error(act(api, event, "dispatch", department="yingji"), 403, "permission_denied")
    assert_error(act(api, event, "accept"), 403, "permission_denied")
    # Not dispatched to it: not visible at all, 404.
    assert_error(act(api, pending, "accept"), 404, "not_found")
    assert_error(act(api, pending, "reject", reason="不受理"), 404, "not_found")
    assert snapshot(event) == before
    assert snapshot(pending) == pending_before
    # What it may do: start handling.
    response = act(api, event, "handle")
    assert response.status_code == 200 and response.json()["status"] == "handling"


# -- lists and indicators are scoped ------------------------------------------------------------


def test_street_officer_lists_exactly_its_street(api_as: Any, report: Report) -> None:
    report(grid=MINE)
    report(username="demo-district", grid=OTHER)
    api = api_as("demo-street")
    for query, filters in (
        ("", {}),
        ("status=filed&", {"status": "filed"}),
        ("category=01&", {"category__parent__code": "01"}),
    ):
        body = api.get(f"/api/v1/events?{query}limit=500").json()
        assert body["items"] and all(e["grid_code"].startswith(LILE) for e in body["items"])
        expected = unscoped().filter(grid_code__startswith=LILE, **filters).count()
        assert body["count"] == expected, query
        district = unscoped().filter(**filters).count()
        assert district > expected  # the filter matters: there are events elsewhere


def test_indicators_are_scoped(api_as: Any, report: Report) -> None:
    report(grid=MINE)
    report(username="demo-district", grid=OTHER)
    body = api_as("demo-street").get("/api/v1/events-indicators?by=community").json()
    keys = [row["key"] for row in body["rows"]]
    assert keys and all(k.startswith(LILE) and len(k) == 12 for k in keys)
    mine = unscoped().filter(grid_code__startswith=LILE, status__in=SHOULD_CLOSE)
    assert body["total"]["should_close"] == mine.count()
    assert body["total"]["closed"] == mine.filter(status="closed").count()
    assert sum(row["should_close"] for row in body["rows"]) == mine.count()
    by_street = api_as("demo-street").get("/api/v1/events-indicators?by=street").json()
    assert [row["key"] for row in by_street["rows"]] == [LILE]
    district = api_as("demo-district").get("/api/v1/events-indicators?by=street").json()
    assert OTHER[:9] in [row["key"] for row in district["rows"]]
    assert district["total"]["should_close"] == (unscoped().filter(status__in=SHOULD_CLOSE).count())


# -- roles and rules on visible events ---------------------------------------------------------


def test_grid_leader_cannot_dispatch(api_as: Any, report: Report) -> None:
    event = report(category="0101")
    before = snapshot(event)
    api = api_as("demo-grid")
    assert api.get(f"/api/v1/events/{event.pk}").status_code == 200
    assert_error(act(api, event, "dispatch", department="chengguan"), 403, "permission_denied")
    assert snapshot(event) == before
    assert "dispatch" not in api.get(f"/api/v1/events/{event.pk}").json()["allowed_actions"]


def test_illegal_transition_is_refused(api_as: Any, report: Report) -> None:
    event = report(category="0101")
    before = snapshot(event)
    api = api_as("demo-district")
    response = act(api, event, "close")
    assert_error(response, 400, "illegal_transition")
    assert response.json()["details"] == {"status": "filed", "action": "close"}
    assert_error(act(api, event, "accept"), 400, "illegal_transition")
    assert snapshot(event) == before
    assert fresh(event).closed_at is None


def test_reject_needs_a_reason(api_as: Any, report: Report) -> None:
    event = report(username="demo-district", category="0101", channel="hotline")
    before = snapshot(event)
    api = api_as("demo-district")
    assert_error(act(api, event, "reject"), 400, "reason_required")
    assert_error(act(api, event, "reject", reason="   "), 400, "reason_required")
    assert snapshot(event) == before
    response = act(api, event, "reject", reason="重复来电")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_the_handler_never_verifies(api_as: Any, report: Report) -> None:
    event = report(category="0102")  # self-resolvable
    response = act(api_as("demo-grid"), event, "self_resolve")
    assert response.status_code == 200 and response.json()["status"] == "verifying"
    handler = fresh(event).handler
    assert handler is not None and handler.username == "demo-grid"
    before = snapshot(event)
    assert_error(act(api_as("demo-grid"), event, "verify", passed=True), 400, "illegal_transition")
    assert snapshot(event) == before
    # Someone else may.
    response = act(api_as("demo-community"), event, "verify", passed=True)
    assert response.status_code == 200 and response.json()["status"] == "verified"


def test_an_event_assigned_after_a_return_cannot_be_returned_again(
    api_as: Any, report: Report
) -> None:
    event = dispatch(report(username="demo-district", category="0101"), "chengguan")
    dept, centre = api_as("demo-dept"), api_as("demo-district")
    assert act(dept, event, "return", reason="不是我们的").status_code == 200
    response = act(centre, event, "assign", department="chengguan")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["no_return"]) == ("dispatched", True)
    before = snapshot(event)
    assert_error(act(dept, event, "return", reason="还是不是"), 400, "illegal_transition")
    assert snapshot(event) == before
    assert fresh(event).return_count == 1


def test_a_stale_version_is_a_conflict(api_as: Any, report: Report) -> None:
    event = report(category="0101")
    api = api_as("demo-district")
    version = fresh(event).version
    before = snapshot(event)
    stale = act(api, event, "dispatch", department="chengguan", version=version + 1)
    assert_error(stale, 409, "conflict")
    assert snapshot(event) == before
    ok = act(api, event, "dispatch", department="chengguan", version=version)
    assert ok.status_code == 200 and ok.json()["version"] == version + 1
    again = act(api, event, "extend", amount=1, unit="day", reason="再给一天", version=version)
    assert_error(again, 409, "conflict")
    assert fresh(event).extend_count == 0


# -- configuration: categories and the calendar --------------------------------------------------

NOT_CONFIGURERS = ["demo-street", "demo-community", "demo-grid", "demo-dept", "demo-auditor"]


@pytest.mark.parametrize("username", NOT_CONFIGURERS)
def test_category_patch_is_404_without_the_role(api_as: Any, username: str) -> None:
    before = Category.objects.get(code="0102")
    audits = AuditEntry.objects.filter(action="event.category_update").count()
    response = api_as(username).patch(
        "/api/v1/event-categories/0102", {"handle_limit": 9}, content_type="application/json"
    )
    assert_error(response, 404, "not_found")
    assert Category.objects.get(code="0102").handle_limit == before.handle_limit
    assert AuditEntry.objects.filter(action="event.category_update").count() == audits


def test_category_patch_by_the_district_is_audited(api_as: Any) -> None:
    assert Category.objects.get(code="0102").handle_limit != 9
    response = api_as("demo-district").patch(
        "/api/v1/event-categories/0102",
        {"handle_limit": 9, "handle_unit": "hour"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["handle_limit"], response.json()["handle_unit"]) == (9, "hour")
    assert Category.objects.get(code="0102").handle_limit == 9
    entry = AuditEntry.objects.filter(action="event.category_update").order_by("-seq")[0]
    assert (entry.actor_name, entry.object_type, entry.object_id) == (
        "demo-district",
        "category",
        "0102",
    )
    assert entry.details == {"changed": {"handle_limit": "9"}}


@pytest.mark.parametrize("username", NOT_CONFIGURERS)
def test_calendar_put_is_404_without_the_role(api_as: Any, client_as: Any, username: str) -> None:
    audits = AuditEntry.objects.filter(action="event.calendar_set").count()
    response = api_as(username).put(
        "/api/v1/calendar/2026-10-10", {"is_workday": False}, content_type="application/json"
    )
    assert_error(response, 404, "not_found")
    page = client_as(username).post("/events/calendar/", {"date": "2026-10-10", "is_workday": "0"})
    assert page.status_code == 404
    assert not CalendarDay.objects.filter(date="2026-10-10").exists()
    assert AuditEntry.objects.filter(action="event.calendar_set").count() == audits


def test_calendar_put_by_the_district_is_audited(api_as: Any) -> None:
    response = api_as("demo-district").put(
        "/api/v1/calendar/2026-10-10",
        {"is_workday": False, "note": "防汛调休"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    [day] = response.json()
    assert (day["date"], day["is_workday"], day["override"], day["note"]) == (
        "2026-10-10",
        False,
        True,
        "防汛调休",
    )
    stored = CalendarDay.objects.get(date="2026-10-10")
    assert (stored.is_workday, stored.changed_by) == (False, "demo-district")
    entry = AuditEntry.objects.filter(action="event.calendar_set").order_by("-seq")[0]
    assert (entry.actor_name, entry.object_type, entry.object_id) == (
        "demo-district",
        "calendar",
        "2026-10-10",
    )
    assert entry.details == {"is_workday": False, "note": "防汛调休"}


# -- notifications: one's own only ----------------------------------------------------------------


def test_notifications_are_ones_own(api_as: Any, report: Report, user: Any) -> None:
    event = report(username="demo-district", category="0101", channel="hotline", title="来电通知")
    dispatched = report(username="demo-district", category="0101", title="派遣通知")
    dispatch(dispatched, "chengguan")
    community, dept = user("demo-community"), user("demo-dept")
    to_community = Notification.objects.dangerously_unscoped().get(user=community, event=event)
    to_dept = Notification.objects.dangerously_unscoped().get(user=dept, event=dispatched)
    assert to_community.read_at is None and to_dept.read_at is None

    def listed(username: str) -> set[int]:
        response = api_as(username).get("/api/v1/notifications?limit=500")
        assert response.status_code == 200
        return {n["id"] for n in response.json()}

    for username in ("demo-community", "demo-dept", "demo-street", "demo-grid"):
        own = set(
            Notification.objects.dangerously_unscoped()
            .filter(user__username=username)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[:500]
        )
        assert listed(username) == own
    assert to_community.pk in listed("demo-community")
    assert to_community.pk not in listed("demo-street")
    assert to_dept.pk in listed("demo-dept") and to_dept.pk not in listed("demo-community")

    # Marking read touches only one's own, by id or all at once.
    street = api_as("demo-street")
    read = street.post(
        "/api/v1/notifications/read",
        {"ids": [to_community.pk, to_dept.pk]},
        content_type="application/json",
    )
    assert read.status_code == 200 and read.json() == {"count": 0}
    street.post("/api/v1/notifications/read", {}, content_type="application/json")
    to_community.refresh_from_db()
    to_dept.refresh_from_db()
    assert to_community.read_at is None and to_dept.read_at is None
    mine = api_as("demo-community").post(
        "/api/v1/notifications/read", {"ids": [to_community.pk]}, content_type="application/json"
    )
    assert mine.json() == {"count": 1}
    to_community.refresh_from_db()
    to_dept.refresh_from_db()
    assert to_community.read_at is not None and to_dept.read_at is None


# -- the reporter's personal data ---------------------------------------------------------------


def test_reporter_phone_is_masked(api_as: Any, client_as: Any, report: Report) -> None:
    event = report(
        username="demo-district",
        category="0101",
        channel="hotline",
        title="掩码测试",
        reporter_name=NAME,
        reporter_phone=PHONE,
    )
    api = api_as("demo-street")
    detail = api.get(f"/api/v1/events/{event.pk}")
    assert detail.json()["event"]["reporter_phone"] == "139****5678"
    assert detail.json()["event"]["reporter_name"] == "王**"
    listed = api.get("/api/v1/events?q=掩码测试")
    page = client_as("demo-street").get(f"/events/{event.pk}/")
    for response in (detail, listed, page):
        assert response.status_code == 200
        text = response.content.decode()
        assert PHONE not in text and NAME not in text
    assert "139****5678" in listed.content.decode()
    assert "139****5678" in page.content.decode()


def test_reveal_needs_the_role_and_a_reason_and_is_audited(api_as: Any, report: Report) -> None:
    event = dispatch(
        report(username="demo-district", category="0101", reporter_name=NAME, reporter_phone=PHONE),
        "chengguan",
    )
    url = f"/api/v1/events/{event.pk}/reveal"

    def reveal(username: str, reason: str) -> Any:
        return api_as(username).post(
            url, {"field": "reporter_phone", "reason": reason}, content_type="application/json"
        )

    # demo-dept sees the event (dispatched to it) but may not reveal.
    assert api_as("demo-dept").get(f"/api/v1/events/{event.pk}").status_code == 200
    denied = reveal("demo-dept", "联系举报人核实")
    assert_error(denied, 403, "permission_denied")
    assert PHONE not in denied.content.decode()
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (entry.actor_name, entry.outcome, entry.object_id) == (
        "demo-dept",
        "denied",
        str(event.pk),
    )
    assert_error(reveal("demo-auditor", "联系举报人核实"), 404, "not_found")

    audits = AuditEntry.objects.filter(action="personal.reveal", outcome="success").count()
    empty = reveal("demo-district", "")
    assert empty.status_code in (400, 422) and PHONE not in empty.content.decode()
    assert_error(reveal("demo-district", "看看"), 400, "reason_required")
    assert AuditEntry.objects.filter(action="personal.reveal", outcome="success").count() == audits

    shown = reveal("demo-district", "联系举报人核实")
    assert shown.status_code == 200
    assert shown.json() == {"field": "reporter_phone", "value": PHONE}
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (entry.actor_name, entry.outcome, entry.object_type, entry.object_id) == (
        "demo-district",
        "success",
        "event",
        str(event.pk),
    )
    assert entry.details == {"field": "reporter_phone", "reason": "联系举报人核实"}


def test_event_points_are_scoped(api_as: Any, client_as: Any, report: Any) -> None:
    mine = report(category="0102")
    other = report(username="demo-district", grid=OTHER, category="0102")
    street = api_as("demo-street").get("/api/v1/events.geojson").json()
    ids = {f["properties"]["id"] for f in street["features"]}
    assert mine.pk in ids and other.pk not in ids
    assert all(unscoped().get(pk=i).grid_code.startswith("440704003") for i in list(ids)[:200])
    assert api_as(None).get("/api/v1/events.geojson").status_code == 401
    assert api_as("demo-auditor").get("/api/v1/events.geojson").status_code == 404
    assert client_as("demo-street").get("/events/map/").status_code == 200
    assert client_as("demo-auditor").get("/events/map/").status_code == 404


def session_data(client: Any) -> str:
    """Everything the session store holds for this client, as stored (decoded)."""
    import json

    from django.contrib.sessions.backends.db import SessionStore

    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return json.dumps(SessionStore(session_key=key).load(), ensure_ascii=False)


def test_reveal_on_the_page_shows_the_value_in_its_answer_and_never_in_the_session(
    client_as: Any, report: Report
) -> None:
    """Security finding 5: the revealed phone went into the session until the next page view.
    Now it is in the answer to the POST itself, and nowhere else."""
    event = report(username="demo-district", category="0101", reporter_phone=PHONE)
    page = client_as("demo-district")
    shown = page.post(
        f"/events/{event.pk}/reveal/", {"field": "reporter_phone", "reason": "联系举报人核实"}
    )
    assert shown.status_code == 200
    assert f'<p class="revealed">{PHONE}</p>' in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert PHONE not in session_data(page)
    again = page.get(f"/events/{event.pk}/")
    assert PHONE not in again.content.decode()
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (entry.actor_name, entry.outcome, entry.object_id) == (
        "demo-district",
        "success",
        str(event.pk),
    )


def test_reveal_on_the_page_refused_without_the_role(client_as: Any, report: Report) -> None:
    event = dispatch(
        report(username="demo-district", category="0101", reporter_phone=PHONE), "chengguan"
    )
    page = client_as("demo-dept")
    detail = page.get(f"/events/{event.pk}/").content.decode()
    assert f'action="/events/{event.pk}/reveal/"' not in detail  # not offered …
    refused = page.post(
        f"/events/{event.pk}/reveal/", {"field": "reporter_phone", "reason": "联系举报人核实"}
    )
    assert refused.status_code == 302  # … and refused when asked anyway
    assert PHONE not in page.get(refused["Location"]).content.decode()
    assert PHONE not in session_data(page)
    entry = AuditEntry.objects.filter(action="personal.reveal").order_by("-seq")[0]
    assert (entry.actor_name, entry.outcome) == ("demo-dept", "denied")


@pytest.mark.parametrize("username", ["demo-street", "demo-grid", "demo-dept"])
def test_categories_page_changes_are_404_without_the_role(client_as: Any, username: str) -> None:
    before = Category.objects.get(code="0102").handle_limit
    page = client_as(username)
    form = {"code": "0102", "handle_limit": "9", "handle_unit": "hour"}
    assert page.post("/events/categories/", form).status_code == 404
    assert Category.objects.get(code="0102").handle_limit == before
    assert "cat-0102" not in page.get("/events/categories/").content.decode()


def test_categories_page_saves_for_the_district(client_as: Any) -> None:
    form = {
        "code": "0102",
        "department": "chengguan",
        "self_resolve": "on",
        "public": "on",
        "active": "on",
        "accept_limit": "2",
        "accept_unit": "hour",
        "handle_limit": "9",
        "handle_unit": "hour",
        "verify_limit": "30",
        "verify_unit": "minute",
    }
    assert client_as("demo-district").post("/events/categories/", form).status_code == 302
    saved = Category.objects.select_related("department").get(code="0102")
    department = saved.department.code if saved.department else None
    assert (saved.handle_limit, saved.handle_unit, department) == (9, "hour", "chengguan")


def test_reveal_is_offered_only_where_the_grant_covering_the_event_allows_it(
    client: Any, report: Report
) -> None:
    """A grid leader in one grid and a worker in another (who may not reveal) is offered the
    reveal in the first grid only: the page asks the same rule the service enforces."""
    from wangge.core.roles import Role
    from wangge.core.tests.factories import user_with

    other_grid = MINE[:12] + "002"
    both = user_with((Role.GRID_LEADER, MINE), (Role.GRID_WORKER, other_grid))
    client.force_login(both)
    led = report(username="demo-district", category="0101", grid=MINE, reporter_phone=PHONE)
    worked = report(
        username="demo-district", category="0101", grid=other_grid, reporter_phone=PHONE
    )
    form = 'action="/events/{}/reveal/"'
    assert form.format(led.pk) in client.get(f"/events/{led.pk}/").content.decode()
    assert form.format(worked.pk) not in client.get(f"/events/{worked.pk}/").content.decode()
    refused = client.post(
        f"/events/{worked.pk}/reveal/", {"field": "reporter_phone", "reason": "联系举报人核实"}
    )
    assert refused.status_code == 302
