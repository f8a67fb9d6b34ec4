"""Property: random sequences of actions by random people never reach an illegal state.

Every attempt either succeeds — then it was offered by `allowed_actions`, the version moved by
one, one log line was written and the state invariants hold — or fails with a domain error and
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.errors import WanggeError
from wangge.core.models import User
from wangge.core.scope import Scope, scope_for
from wangge.events.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    CloseKind,
    Event,
    EventAction,
    Status,
)
from wangge.events.workflow import RULES, allowed_actions, transition

pytestmark = pytest.mark.django_db

PEOPLE = ["demo-grid", "demo-community", "demo-street", "demo-district", "demo-dept", "system"]

# Who would normally take each action; most steps use such a person so that sequences get deep
# (to closing and call-back), the rest anybody, so that refusals are exercised too.
NATURAL = {
    "self_resolve": ["demo-grid"],
    "return": ["demo-dept"],
    "handle": ["demo-dept"],
    "report": ["demo-dept"],
    "request_extension": ["demo-dept"],
    "verify": ["demo-grid", "demo-community"],
}
CENTRE = ["demo-community", "demo-street", "demo-district"]
# Ending actions are rarer so that sequences live long enough to reach the deep states.
ACTIONS = [a for a in sorted(RULES) if a not in {"close_special", "reject", "merge"}]

step = st.tuples(
    # An action drawn from everything, or (an int) one of those offered to someone right now.
    st.one_of(
        st.sampled_from(ACTIONS * 6 + ["close_special", "reject", "merge"]), st.integers(0, 99)
    ),
    st.one_of(st.sampled_from(PEOPLE), st.integers(0, 2)),
    st.fixed_dictionaries(
        {
            "reason": st.sampled_from(["", "现场核实情况"]),
            "department": st.sampled_from(["", "", "chengguan", "yingji"]),
            "passed": st.booleans(),
            "amount": st.sampled_from([None, 1, 3]),
            "unit": st.sampled_from(["hour", "day"]),
            "satisfaction": st.sampled_from([None, 1, 3, 7]),
            "kind": st.sampled_from(["special", "erroneous", "normal"]),
            "into": st.sampled_from([None, "other", "self"]),
        }
    ),
)


def check_invariants(e: Event) -> None:
    assert e.status in Status.values
    if e.status == Status.CLOSED:
        assert e.closed_at is not None and e.close_kind in CloseKind.values
        assert e.handling_seconds is not None
    else:
        assert e.closed_at is None
    if e.status == Status.MERGED:
        assert e.merged_into_id is not None and e.merged_into_id != e.pk
    if e.status in FINAL_STATUSES:
        assert e.due_at is None
    # A department sees what is dispatched to it, also once handled; never after returning it.
    assert e.department_code in {"", e.handler_department}
    if e.status in {Status.DISPATCHED, Status.HANDLING}:
        assert e.department_code and e.department_code == e.handler_department
        assert e.handle_due_at is not None and e.due_at == e.handle_due_at
    if e.status in {Status.PENDING, Status.FILED, Status.RETURNED}:
        assert e.department_code == ""
    if e.status == Status.PARKED:
        assert e.parked_from in OPEN_STATUSES and e.parked_from != Status.PARKED
        assert e.parked_at is not None
    if e.status == Status.VERIFYING:
        assert e.reported_at is not None
    if e.on_time is not None:
        assert e.status == Status.CLOSED
        assert e.on_time == (e.close_kind == CloseKind.NORMAL)
    for counter in (e.return_count, e.rework_count, e.extend_count, e.park_count):
        assert counter >= 0


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=8, max_size=25))
def test_random_sequences_never_reach_an_illegal_state(report: Any, steps: list[Any]) -> None:
    scopes = {name: scope_for(User.objects.get(username=name)) for name in PEOPLE[:-1]}
    scopes["system"] = Scope.system("property")
    channel = "hotline" if len(steps) % 2 else "patrol"
    event = report(category="0102" if len(steps) % 3 else "0101", channel=channel)
    other = report(category="0201")
    for drawn, choice, raw in steps:
        if isinstance(drawn, int):
            current = (
                Event.objects.dangerously_unscoped().select_related("category").get(pk=event.pk)
            )
            offered_now: dict[str, list[str]] = {}
            for name in PEOPLE[:-1]:
                for a in allowed_actions(scopes[name], current):
                    offered_now.setdefault(a, []).append(name)
            if not offered_now:
                break  # a final state: nothing more to do
            action = sorted(offered_now)[drawn % len(offered_now)]
            choice = offered_now[action][drawn // len(offered_now) % len(offered_now[action])]
        else:
            action = drawn
        if isinstance(choice, int):  # the natural person for this action
            natural = NATURAL.get(action, CENTRE)
            person = natural[choice % len(natural)]
        else:
            person = choice
        actor = scopes[person]
        before = Event.objects.dangerously_unscoped().get(pk=event.pk)
        offered = action in allowed_actions(actor, before)
        logged = EventAction.objects.dangerously_unscoped().filter(event=event).count()
        params = {k: v for k, v in raw.items() if v not in (None, "") and k != "reason"}
        if raw["into"] == "other":
            params["into"] = other.pk
        elif raw["into"] == "self":
            params["into"] = event.pk
        try:
            after = transition(actor, event.pk, action, reason=raw["reason"], **params)
        except WanggeError:
            unchanged = Event.objects.dangerously_unscoped().get(pk=event.pk)
            assert unchanged.version == before.version and unchanged.status == before.status
            assert EventAction.objects.dangerously_unscoped().filter(event=event).count() == logged
            continue
        assert offered or person == "system", (action, person, before.status)
        assert after.version == before.version + 1
        assert EventAction.objects.dangerously_unscoped().filter(event=event).count() == logged + 1
        if action == "verify":
            assert actor.user_id is None or actor.user_id != before.handler_id
        if action == "return":
            assert not before.no_return
        check_invariants(after)
