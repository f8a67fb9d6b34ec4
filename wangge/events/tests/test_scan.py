"""The deadline scan: overdue marked once per deadline, escalation one tier per missed
deadline, notifications, and the command's output."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from wangge.core.models import AuditEntry
from wangge.core.scope import Scope
from wangge.events.models import Event, EventAction, Notification, Status, Tier
from wangge.events.scan import scan
from wangge.events.workflow import transition

pytestmark = pytest.mark.django_db


def run_command(now: dt.datetime) -> dict[str, int]:
    out = io.StringIO()
    call_command("events", "scan", "--now", now.isoformat(), "--json", stdout=out)
    return json.loads(out.getvalue())


def mine(ids: list[int]) -> Any:
    return Event.objects.dangerously_unscoped().filter(pk__in=ids)


def test_scan_marks_and_escalates_once_however_often_it_runs(report: Any) -> None:
    event = report(category="0102")
    assert event.due_at is not None
    before = event.due_at - dt.timedelta(minutes=1)
    after = event.due_at + dt.timedelta(minutes=1)
    # Other events in the demo may be due as well; count only ours through its log.
    run_command(before)
    event.refresh_from_db()
    assert not event.overdue and event.tier == Tier.GRID
    first = run_command(after)
    assert first["overdue_marked"] >= 1 and first["escalated"] >= 1
    event.refresh_from_db()
    assert event.overdue and event.tier == Tier.COMMUNITY
    assert run_command(after) == {"overdue_marked": 0, "escalated": 0}
    run_command(after + dt.timedelta(days=3))  # other (demo) events may fall due meanwhile
    event.refresh_from_db()
    assert event.tier == Tier.COMMUNITY
    assert (
        EventAction.objects.dangerously_unscoped().filter(event=event, action="escalate").count()
        == 1
    )
    assert AuditEntry.objects.filter(action="event.overdue", object_id=str(event.pk)).count() == 1
    assert (
        Notification.objects.dangerously_unscoped()
        .filter(event=event, kind="overdue", user__username="demo-community")
        .exists()
    )


def test_each_missed_deadline_raises_one_tier(report: Any, system: Scope) -> None:
    event = report(category="0101")
    event = transition(system, event, "dispatch")
    assert event.due_at is not None
    scan(event.due_at + dt.timedelta(seconds=1))
    event.refresh_from_db()
    assert event.tier == Tier.COMMUNITY
    # Extended (a new deadline), missed again: one more tier.
    event = transition(system, event, "extend", amount=1, unit="day", reason="协调中")
    assert event.due_at is not None
    scan(event.due_at + dt.timedelta(seconds=1))
    event.refresh_from_db()
    assert event.tier == Tier.STREET
    for _ in range(3):
        event = transition(system, event, "extend", amount=1, unit="hour", reason="再延")
        assert event.due_at is not None
        scan(event.due_at + dt.timedelta(seconds=1))
    event.refresh_from_db()
    assert event.tier == Tier.DISTRICT  # and no further


def test_parked_and_closed_events_are_not_marked(report: Any, system: Scope) -> None:
    parked = transition(system, report(category="0401"), "park", reason="待认定")
    rejected = transition(
        system, report(category="0103", channel="hotline"), "reject", reason="重复"
    )
    far = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    scan(far)
    rows = dict(mine([parked.pk, rejected.pk]).values_list("pk", "overdue"))
    assert rows == {parked.pk: False, rejected.pk: False}
    assert mine([parked.pk]).get().status == Status.PARKED


def test_command_rejects_a_bad_time() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("events", "scan", "--now", "yesterday", stdout=io.StringIO())


def test_the_worker_runs_the_scan(report: Any) -> None:
    """`wangge worker` runs the deadline scan between jobs (here once, as from cron)."""
    event = report(category="0102")
    Event.objects.dangerously_unscoped().filter(pk=event.pk).update(
        due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    call_command("worker", "--once", stdout=io.StringIO())
    event.refresh_from_db()
    assert event.overdue and event.tier == Tier.COMMUNITY


class RecordingSms:
    """An SMS gateway plugged in through WANGGE_SMS_BACKEND (as a district's would be)."""

    sent: list[tuple[str, str]] = []

    def send(self, *, user: Any, text: str) -> None:
        self.sent.append((user.get_username(), text))


def test_sms_goes_through_the_configured_backend_after_commit(
    report: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMS_BACKEND = "wangge.events.tests.test_scan.RecordingSms"
    RecordingSms.sent.clear()
    event = report(category="0102")
    assert event.due_at is not None
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        scan(event.due_at + dt.timedelta(minutes=1))
    assert RecordingSms.sent == []  # nothing is texted before the transaction commits
    for callback in callbacks:
        callback()
    assert any(
        user == "demo-community" and event.number in text for user, text in RecordingSms.sent
    )


def test_unread_notifications_show_in_the_header(report: Any, client_as: Any) -> None:
    client = client_as("demo-community")
    client.post("/events/notifications/")  # mark everything read first
    assert "data-unread" not in client.get("/?start=1").content.decode()
    event = report(category="0102")
    assert event.due_at is not None
    scan(event.due_at + dt.timedelta(minutes=1))  # escalates to the community: a notification
    page = client.get("/?start=1").content.decode()
    assert "data-unread" in page
    client.post("/events/notifications/")
    assert "data-unread" not in client.get("/?start=1").content.decode()
