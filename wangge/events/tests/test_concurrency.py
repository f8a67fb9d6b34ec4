"""Two people acting on the same event at the same moment: exactly one wins.

Runs on PostgreSQL with real concurrent connections: each thread has its own connection and
commits for real (outside the test's transaction), so the race is decided by the database —
the conditional `UPDATE … WHERE version = ?` — not by Python. The rows made here are deleted
afterwards (the audit entries stay: the audit log is append-only by design)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections

from wangge.core.errors import Conflict, WanggeError
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.events.intake import Report, event_report
from wangge.events.models import Event, EventAction, Notification, Status
from wangge.events.workflow import transition
from wangge.regions.selectors import interior_point_unscoped

pytestmark = pytest.mark.django_db

ROUNDS = 8


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run fn on a fresh connection in another thread, committed on its own."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def current_version(event_id: int) -> int:
    return int(
        Event.objects.dangerously_unscoped().values_list("version", flat=True).get(pk=event_id)
    )


def race(event_id: int, version: int, moves: list[tuple[str, Scope, str]]) -> dict[str, Any]:
    """Start one thread per move; all call transition() at the same moment."""
    barrier = threading.Barrier(len(moves))
    outcomes: dict[str, Any] = {}

    def act(action: str, who: Scope, reason: str) -> None:
        try:
            barrier.wait(10)
            transition(who, event_id, action, reason=reason, expected_version=version)
            outcomes[action] = "won"
        except WanggeError as exc:
            outcomes[action] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=move) for move in moves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two server connections; the SQLite suite covers the same rule in "
    "test_workflow.py::test_stale_version_conflicts",
)
def test_two_people_at_once_exactly_one_wins() -> None:
    lon, lat = interior_point_unscoped("440704003001001")

    def setup() -> tuple[list[int], Scope, Scope]:
        community = scope_for(User.objects.get(username="demo-community"))
        street = scope_for(User.objects.get(username="demo-street"))
        ids = [
            event_report(
                Scope.system("concurrency-test"),
                Report(category="0103", title=f"并发{i}", lon=lon, lat=lat, channel="hotline"),
            ).event.pk
            for i in range(ROUNDS)
        ]
        return ids, community, street

    ids, community, street = in_thread(setup)
    try:
        for event_id in ids:
            version = in_thread(partial(current_version, event_id))
            outcomes = race(
                event_id, version, [("accept", street, ""), ("reject", community, "重复")]
            )
            winners = [k for k, v in outcomes.items() if v == "won"]
            assert len(winners) == 1, outcomes
            loser = next(v for k, v in outcomes.items() if k not in winners)
            assert isinstance(loser, Conflict), loser

            def final(eid: int = event_id) -> tuple[str, int, list[str]]:
                e = Event.objects.dangerously_unscoped().get(pk=eid)
                log = list(
                    EventAction.objects.dangerously_unscoped()
                    .filter(event_id=eid)
                    .values_list("action", flat=True)
                )
                return e.status, e.version, log

            status, new_version, log = in_thread(final)
            assert new_version == version + 1
            assert log == ["intake", winners[0]]
            assert status == (Status.FILED if winners[0] == "accept" else Status.REJECTED)
    finally:

        def cleanup() -> None:
            Notification.objects.dangerously_unscoped().filter(event_id__in=ids).delete()
            Event.objects.dangerously_unscoped().filter(pk__in=ids).delete()

        in_thread(cleanup)
