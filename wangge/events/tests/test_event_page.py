"""The event page shows the workflow (issue 14 §5): the step bar, the one primary action for
the actor, the time left or overdue, and after closing the close time and whether on time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wangge.core.dates import time_left
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.events import selectors
from wangge.events.models import Event, Status
from wangge.events.rules import RULES, primary_action
from wangge.events.workflow import allowed_actions, transition

pytestmark = pytest.mark.django_db


def who(username: str) -> Scope:
    return scope_for(User.objects.get(username=username))


def states(event: Event) -> dict[str, str]:
    timeline = selectors.event_timeline(actor=who("demo-district"), event=event)
    return {s["key"]: s["state"] for s in selectors.event_steps(event=event, timeline=timeline)}


def notes(event: Event) -> dict[str, list[str]]:
    timeline = selectors.event_timeline(actor=who("demo-district"), event=event)
    return {s["key"]: s["notes"] for s in selectors.event_steps(event=event, timeline=timeline)}


def test_the_steps_follow_the_event_through_return_rework_and_close(report: Any) -> None:
    district = who("demo-district")
    event = report(category="0101")  # filed by the grid's patrol: it waits for dispatch
    assert states(event) == {
        "report": "done",
        "accept": "done",
        "dispatch": "current",
        "handle": "todo",
        "verify": "todo",
        "close": "todo",
    }
    event = transition(district, event, "dispatch", department="chengguan", note="请今日处理")
    assert states(event)["handle"] == "current"
    event = transition(who("demo-dept"), event, "return", reason="不属本部门")
    assert (states(event)["dispatch"], notes(event)["dispatch"]) == ("current", ["退回 1 次"])
    event = transition(district, event, "assign", department="chengguan")
    event = transition(who("demo-dept"), event, "report", note="已处置\n已拍照")
    assert states(event)["verify"] == "current"
    event = transition(who("demo-grid"), event, "verify", passed=False, reason="仍有垃圾")
    assert states(event)["handle"] == "current"
    assert notes(event)["handle"] == ["核查未通过 1 次"]
    event = transition(who("demo-dept"), event, "report", note="再次处置")
    event = transition(who("demo-grid"), event, "verify", passed=True)
    event = transition(district, event, "close")
    assert set(states(event).values()) == {"done"}
    timeline = selectors.event_timeline(actor=district, event=event)
    steps = selectors.event_steps(event=event, timeline=timeline)
    assert all(s["at"] is not None for s in steps)
    assert steps[-1]["at"] == event.closed_at
    # The dispatcher's instructions and the handler's lines are kept on the log.
    logged = {a.action: a.details.get("note") for a in timeline}
    assert logged["dispatch"] == "请今日处理" and logged["report"] == "再次处置"


def test_a_report_not_accepted_stops_at_filing(report: Any) -> None:
    event = report(username="demo-district", category="0101", channel="hotline")
    assert states(event)["accept"] == "current"
    event = transition(who("demo-district"), event, "reject", reason="重复来电")
    assert states(event) == {
        "report": "done",
        "accept": "stopped",
        "dispatch": "todo",
        "handle": "todo",
        "verify": "todo",
        "close": "todo",
    }


def test_the_grid_resolving_it_skips_dispatch(report: Any) -> None:
    event = transition(who("demo-grid"), report(category="0102"), "self_resolve", note="已清理")
    assert states(event)["dispatch"] == "skipped"
    assert states(event)["verify"] == "current"


@pytest.mark.parametrize(
    ("username", "category", "expected"),
    [
        ("demo-district", "0101", "dispatch"),  # a command centre dispatches
        ("demo-grid", "0102", "self_resolve"),  # the grid resolves a small matter itself
        ("demo-grid", "0101", None),  # nothing of the grid's moves it on: all secondary
        ("demo-auditor", "0101", None),
    ],
)
def test_one_primary_action_from_the_allowed_ones(
    report: Any, username: str, category: str, expected: str | None
) -> None:
    event = report(category=category)
    abilities = selectors.event_abilities(actor=who(username), event=event)
    assert abilities["primary"] == expected
    assert expected is None or expected in abilities["actions"]


def test_the_primary_action_is_never_one_the_actor_may_not_take(report: Any) -> None:
    event = report(category="0101")
    for status in Status.values:
        event.status = status
        for username in ("demo-district", "demo-grid", "demo-dept", "demo-community"):
            actions = allowed_actions(who(username), event)
            primary = primary_action(event, actions)
            assert primary is None or primary in actions


def test_the_page_puts_the_primary_action_first_and_before_the_map(
    client_as: Any, report: Any
) -> None:
    event = report(category="0101")
    body = client_as("demo-district").get(f"/events/{event.pk}/").content.decode()
    assert '<div class="action primary" data-action="dispatch">' in body
    assert body.index('data-testid="actions"') < body.index('id="map"')
    assert body.index('data-testid="steps"') < body.index('data-testid="actions"')
    assert 'data-step="dispatch" data-state="current" aria-current="step"' in body
    # 派遣意见 on dispatch; the report back's 处置情况 is several lines.
    dispatch = body.split('data-action="dispatch"')[1].split("</form>")[0]
    assert "派遣意见" in dispatch
    grid_event = report(category="0102")
    grid = client_as("demo-grid").get(f"/events/{grid_event.pk}/").content.decode()
    resolve = grid.split('data-action="self_resolve"')[1].split("</form>")[0]
    assert '<textarea name="note"' in resolve and "处置情况" in resolve
    assert RULES["report"].params[0].multiline


def test_after_closing_the_page_says_when_and_whether_on_time(client_as: Any, report: Any) -> None:
    district = who("demo-district")
    event = transition(district, report(category="0102"), "dispatch", department="chengguan")
    event = transition(who("demo-dept"), event, "report", note="已处置")
    event = transition(who("demo-grid"), event, "verify", passed=True)
    event = transition(district, event, "close")
    body = client_as("demo-district").get(f"/events/{event.pk}/").content.decode()
    assert 'data-on-time="1"' in body and "按期结案" in body
    assert 'data-testid="closed-at"' in body


@pytest.mark.parametrize(
    ("delta", "words", "late"),
    [
        (dt.timedelta(days=69, hours=3), "已超期 69 天", True),
        (dt.timedelta(hours=5, minutes=59), "已超期 5 小时", True),
        (-dt.timedelta(hours=3, minutes=10), "剩余 3 小时", False),
        (-dt.timedelta(days=2, hours=1), "剩余 2 天", False),
        (-dt.timedelta(seconds=20), "剩余 1 分钟", False),
    ],
)
def test_time_left_in_calendar_time(delta: dt.timedelta, words: str, late: bool) -> None:
    from django.utils import translation

    due = dt.datetime(2026, 9, 24, 14, 30, tzinfo=dt.UTC)
    with translation.override("zh-hans"):
        assert time_left(due, due + delta) == (words, late)
    assert time_left(None, due) == ("", False)
