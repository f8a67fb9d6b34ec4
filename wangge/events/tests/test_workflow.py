"""The workflow: each path of domain.md §3 through the one transition function, its rules,
its log and its audit entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.models import AuditEntry, User
from wangge.core.scope import Scope, scope_for
from wangge.events.models import CloseKind, Event, EventAction, Notification, Status, Tier
from wangge.events.workflow import RULES, TransitionError, allowed_actions, transition

pytestmark = pytest.mark.django_db


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def test_grid_resolves_a_small_matter_and_another_person_verifies(report: Any) -> None:
    event = report(category="0102")  # 暴露垃圾: the grid may resolve it
    assert event.status == Status.FILED and event.handle_due_at is not None
    assert "self_resolve" in allowed_actions(who("demo-grid"), event)
    event = transition(who("demo-grid"), event, "self_resolve", note="已清理")
    assert event.status == Status.VERIFYING and event.handler_id == who("demo-grid").user_id
    # The handler may never verify their own work …
    with pytest.raises(TransitionError):
        transition(who("demo-grid"), event, "verify", passed=True)
    # … the community officer (a verifier too) can.
    event = transition(who("demo-community"), event, "verify", passed=True)
    event = transition(who("demo-community"), event, "close")
    assert (event.status, event.close_kind, event.on_time) == (
        Status.CLOSED,
        CloseKind.NORMAL,
        True,
    )
    assert event.handling_seconds is not None and event.handling_seconds >= 0
    steps = list(
        EventAction.objects.dangerously_unscoped()
        .filter(event=event)
        .values_list("action", "actor_name")
    )
    assert steps == [
        ("intake", "demo-grid"),
        ("self_resolve", "demo-grid"),
        ("verify", "demo-community"),
        ("close", "demo-community"),
    ]
    audited = AuditEntry.objects.filter(object_type="event", object_id=str(event.pk))
    assert list(audited.values_list("action", flat=True)) == [
        "event.create",
        "event.self_resolve",
        "event.verify",
        "event.close",
    ]


def test_big_matter_dispatch_return_assign_no_second_return(report: Any) -> None:
    event = report(category="0101")  # 私搭乱建: not for the grid
    with pytest.raises(TransitionError) as not_small:
        transition(who("demo-grid"), event, "self_resolve")
    assert not_small.value.code == "illegal_transition"
    with pytest.raises(PermissionDenied):
        transition(who("demo-grid"), event, "dispatch")  # the grid cannot dispatch
    event = transition(who("demo-street"), event, "dispatch")
    assert (event.status, event.department_code) == (Status.DISPATCHED, "chengguan")
    assert (
        Notification.objects.dangerously_unscoped()
        .filter(user__username="demo-dept", event=event)
        .exists()
    )
    with pytest.raises(ValidationFailed) as no_reason:
        transition(who("demo-dept"), event, "return")
    assert no_reason.value.code == "reason_required"
    event = transition(who("demo-dept"), event, "return", reason="属于住建部门职责")
    assert (event.status, event.department_code, event.return_count) == (Status.RETURNED, "", 1)
    event = transition(who("demo-street"), event, "assign", department="chengguan")
    assert event.no_return and event.status == Status.DISPATCHED
    with pytest.raises(TransitionError) as again:
        transition(who("demo-dept"), event, "return", reason="还是不归我们管")
    assert "cannot be returned again" in again.value.message or "不能再" in again.value.message
    event = transition(who("demo-dept"), event, "handle")
    event = transition(who("demo-dept"), event, "report", note="已拆除")
    # Verification fails: back to the department, counted as rework, same frozen deadline.
    frozen = event.handle_due_at
    event = transition(who("demo-grid"), event, "verify", passed=False, reason="仍有残留")
    assert (event.status, event.rework_count, event.department_code) == (
        Status.DISPATCHED,
        1,
        "chengguan",
    )
    assert event.handle_due_at == frozen
    event = transition(who("demo-dept"), event, "report")
    event = transition(who("demo-grid"), event, "verify", passed=True)
    event = transition(who("demo-district"), event, "close")
    assert event.status == Status.CLOSED
    event = transition(who("demo-street"), event, "callback", satisfaction=1, note="满意")
    assert event.satisfaction == 1


def test_reject_needs_a_reason_and_is_final(report: Any) -> None:
    event = report(channel="hotline", category="0103")
    assert event.status == Status.PENDING and event.tracking_code
    with pytest.raises(ValidationFailed):
        transition(who("demo-community"), event, "reject", reason="  ")
    event = transition(who("demo-community"), event, "reject", reason="属于110警情")
    assert event.status == Status.REJECTED
    assert allowed_actions(who("demo-district"), event) == []
    with pytest.raises(TransitionError) as exc:
        transition(who("demo-district"), event, "accept")
    assert exc.value.code == "illegal_transition"


def test_extension_request_and_approval_move_the_frozen_deadline(report: Any) -> None:
    event = report(category="0302")
    event = transition(who("demo-street"), event, "dispatch")
    before = event.handle_due_at
    event = transition(
        who("demo-dept"), event, "request_extension", amount=2, unit="day", reason="需协调交警"
    )
    assert event.extension_request == {"amount": 2, "unit": "day", "reason": "需协调交警"}
    assert event.handle_due_at == before  # a request alone changes nothing
    event = transition(who("demo-street"), event, "extend", reason="同意")
    assert event.extend_count == 1 and event.extension_request is None
    assert event.handle_due_at is not None and before is not None
    assert event.handle_due_at > before and event.due_at == event.handle_due_at
    # A department cannot approve its own extension.
    with pytest.raises(PermissionDenied):
        transition(who("demo-dept"), event, "extend", amount=1, unit="day", reason="再延")


def test_park_stops_the_clock_and_unpark_resumes_it(report: Any, system: Scope) -> None:
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday 17:00 in Beijing
    event = report(category="0401")
    event = transition(system, event, "park", reason="等待产权认定", now=now)
    assert event.status == Status.PARKED and event.due_at is None and event.park_count == 1
    event = transition(system, event, "unpark", now=now + dt.timedelta(days=1))
    assert event.status == Status.FILED
    assert event.handle_due_at is not None and event.due_at == event.handle_due_at


def test_special_close_and_merge(report: Any) -> None:
    first = report(category="0201")
    second = report(category="0201")
    with pytest.raises(ValidationFailed):
        transition(who("demo-district"), second, "merge", into=second.pk)
    merged = transition(who("demo-district"), second, "merge", into=first.pk)
    assert merged.status == Status.MERGED and merged.merged_into_id == first.pk
    closed = transition(
        who("demo-district"), first, "close_special", reason="重复立案", kind="erroneous"
    )
    assert closed.close_kind == CloseKind.ERRONEOUS and closed.on_time is None


def test_close_after_the_deadline_is_an_overdue_close(report: Any, system: Scope) -> None:
    event = report(category="0103")  # 道路不洁: 5 working hours
    assert event.handle_due_at is not None
    late = event.handle_due_at + dt.timedelta(hours=30)
    event = transition(who("demo-grid"), event, "self_resolve", now=late)
    event = transition(who("demo-community"), event, "verify", passed=True, now=late)
    event = transition(who("demo-community"), event, "close", now=late)
    assert (event.close_kind, event.on_time) == (CloseKind.OVERDUE, False)


def test_supervision_notifies_and_keeps_the_status(report: Any) -> None:
    event = transition(who("demo-street"), report(category="0101"), "dispatch")
    event = transition(who("demo-district"), event, "supervise", reason="群众反映强烈，请加快")
    assert event.supervised and event.status == Status.DISPATCHED
    note = Notification.objects.dangerously_unscoped().get(
        user__username="demo-dept", kind="supervised", event=event
    )
    assert "群众反映强烈" in note.message


def test_stale_version_conflicts(report: Any) -> None:
    event = report(category="0101")
    transition(who("demo-street"), event, "dispatch", expected_version=event.version)
    with pytest.raises(Conflict):
        transition(who("demo-district"), event, "supervise", reason="x", expected_version=0)


def test_escalation_is_not_an_action(report: Any, system: Scope) -> None:
    """Nobody escalates by hand, the system neither: the deadline scan does (test_scan.py)."""
    event = report()
    assert "escalate" not in RULES
    for actor in (who("demo-district"), system):
        with pytest.raises(TransitionError):
            transition(actor, event, "escalate")
    assert Event.objects.dangerously_unscoped().get(pk=event.pk).tier == Tier.GRID


def test_every_rule_names_a_label_and_known_statuses() -> None:
    for name, rule in RULES.items():
        assert str(rule.label) and rule.sources, name
        assert set(rule.sources) <= set(Status.values), name


def test_api_action_errors(api_as: Any, report: Any) -> None:
    event = report(category="0101")
    client = api_as("demo-street")
    bad = client.post(
        f"/api/v1/events/{event.pk}/actions/close", {}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "illegal_transition"
    ok = client.post(
        f"/api/v1/events/{event.pk}/actions/dispatch",
        {"department": "chengguan", "version": event.version},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "dispatched"
    stale = client.post(
        f"/api/v1/events/{event.pk}/actions/supervise",
        {"reason": "快", "version": event.version},
        content_type="application/json",
    )
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert Event.objects.dangerously_unscoped().get(pk=event.pk).supervised is False


def test_assignment_from_above_starts_at_the_assigners_tier(report: Any) -> None:
    event = report(username="demo-street", channel="assigned", category="0101")
    assert (event.status, event.tier, event.channel) == (Status.FILED, Tier.STREET, "assigned")
    assert report(username="demo-grid").tier == Tier.GRID


def test_indicators_workbook_matches_the_page(client_as: Any) -> None:
    import io

    from openpyxl import load_workbook

    from wangge.events import selectors

    response = client_as("demo-street").get("/events/indicators.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(book.sheetnames) == 4
    streets = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    rows = selectors.indicators(actor=who("demo-street"), by="street")
    assert [r[0] for r in streets[1:-1]] == [r["key"] for r in rows] == ["440704003"]
    assert streets[-1][2] == sum(r["should_close"] for r in rows)
    assert AuditEntry.objects.filter(action="event.indicators_export").exists()
    assert client_as("demo-auditor").get("/events/indicators.xlsx").status_code == 404


def test_the_api_and_the_page_are_made_from_the_rule_table(client_as: Any, report: Any) -> None:
    """One description per action: the API's action names and input fields, and the page's
    action forms, are the table's."""
    import re

    from wangge.events.rules import params_by_name

    schema = client_as("demo-district").get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/events/{event_id}/actions/{action}"]["post"]
    [action] = [p for p in operation["parameters"] if p["name"] == "action"]
    assert action["schema"]["enum"] == list(RULES)
    fields = schema["components"]["schemas"]["ActionIn"]["properties"]
    assert set(fields) == set(params_by_name()) | {"version"}
    assert fields["department"]["description"] == (
        "for dispatch, assign: department code; the category's department by default"
    )

    event = report(category="0102")  # filed, self-resolvable: the district may do several things
    body = client_as("demo-district").get(f"/events/{event.pk}/").content.decode()
    offered = re.findall(r'<(?:details|div) class="action(?: primary)?" data-action="(\w+)">', body)
    assert sorted(offered) == sorted(allowed_actions(who("demo-district"), event))
    for name in offered:
        form = body.split(f'data-action="{name}"')[1].split("</form>")[0]
        inputs = [n for n in re.findall(r'name="(\w+)"', form) if n != "csrfmiddlewaretoken"]
        expected = ["version", *(p.name for p in RULES[name].params)]
        assert inputs == expected + (["photos"] if RULES[name].photos else []), name
        for param in RULES[name].params:
            required = re.search(rf'name="{param.name}"[^>]*\brequired\b', form) is not None
            assert required == param.required, (name, param.name)


def test_inbox_counts_are_the_boxes_lists(report: Any) -> None:
    from wangge.events import selectors

    report(category="0102")
    report(username="demo-district", category="0101", channel="hotline")
    for username in ("demo-grid", "demo-community", "demo-street", "demo-dept"):
        actor = who(username)
        boxes = selectors.boxes_for(actor=actor)
        counts = selectors.box_counts(actor=actor, boxes=boxes)
        assert counts == {b: selectors.event_list(actor=actor, box=b).count() for b in boxes}
        assert counts["todo"] > 0, username
