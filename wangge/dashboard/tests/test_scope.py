"""Every dashboard number respects scope: a department sees its own queue, a grid leader their
grid, a region outside the scope is refused (and names nothing), and a user with grants at two
levels gets exact numbers from the finer facts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.world import grid_codes
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.roles import Role
from wangge.core.scope import scope_for
from wangge.core.tests.factories import user_with
from wangge.dashboard import facts, selectors
from wangge.dashboard.tests.test_facts import PERIODS, _aware, who
from wangge.events import selectors as events
from wangge.events.models import Event
from wangge.events.tests.factories import history, local

pytestmark = pytest.mark.django_db
SINCE, UNTIL = PERIODS[0]


@pytest.fixture(autouse=True)
def world() -> None:
    history(grid_codes(), n=300, start=local(2026, 6, 1), days=45, seed=11)
    facts.facts_rebuild()
    facts.figures_refresh()


def test_a_department_sees_its_own_queue() -> None:
    period = selectors.summary(actor=who("demo-dept"), since=SINCE, until=UNTIL)["period"]
    mine = Event.objects.dangerously_unscoped().filter(
        department_code="chengguan", created_at__gte=_aware(SINCE), created_at__lt=_aware(UNTIL)
    )
    assert period["reported"] == mine.count() > 0
    assert period["reported"] < Event.objects.dangerously_unscoped().count()
    names = {
        d["department"]
        for d in selectors.departments(actor=who("demo-dept"), since=SINCE, until=UNTIL)[
            "departments"
        ]
    }
    assert names == {"chengguan"}


def test_a_grid_leader_sees_their_grid() -> None:
    actor = who("demo-grid")
    m = selectors.region_map(actor=actor, indicator="reported", since=SINCE, until=UNTIL)
    assert [r["code"] for r in m["regions"]] == ["440704003001001"]
    ranking = selectors.rankings(actor=actor, since=SINCE, until=UNTIL, level="grid")
    assert {r["code"] for r in ranking["rows"]} <= {"440704003001001"}


@pytest.mark.parametrize("parent", ["440704001", "440704001001001", "440705", "12345"])
def test_a_region_outside_the_scope_is_refused(parent: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        selectors.summary(actor=who("demo-street"), since=SINCE, until=UNTIL, parent=parent)
    assert "江南" not in caught.value.message


def test_the_api_refuses_an_outside_region_without_numbers(api_as: Any) -> None:
    response = api_as("demo-street").get("/api/v1/dashboard/map?parent=440704001&indicator=open")
    assert response.status_code == 400
    assert "regions" not in response.json()


def test_no_dashboard_without_events() -> None:
    with pytest.raises(NotFound):
        selectors.summary(actor=who("demo-auditor"), since=SINCE, until=UNTIL)


def test_grants_at_two_levels_read_the_finer_facts() -> None:
    user = user_with((Role.STREET_OFFICER, "440704001"), (Role.GRID_LEADER, "440704003001002"))
    actor = scope_for(user)
    assert selectors.level_for(actor) == 15
    rows = events.indicators(actor=actor, by="grid", since=_aware(SINCE), until=_aware(UNTIL))
    assert {r["key"][:9] for r in rows} == {"440704001", "440704003"}
    assert selectors.indicators(actor=actor, by="grid", since=SINCE, until=UNTIL) == rows
    period = selectors.summary(actor=actor, since=SINCE, until=UNTIL)["period"]
    assert period["should_close"] == events.indicators_total(rows)["should_close"]


def test_figures_of_a_module_need_its_permission() -> None:
    options = {o["key"] for o in selectors.indicator_options(actor=who("demo-dept"))}
    assert "per_1000" not in options and "no_leader" in options  # teams yes, ledger no
    with pytest.raises(ValidationFailed):
        selectors.region_map(actor=who("demo-dept"), indicator="per_1000", since=SINCE, until=UNTIL)


def test_a_bad_period_is_a_clear_error(api_as: Any) -> None:
    response = api_as("demo-district").get(
        "/api/v1/dashboard/summary?since=2026-06-10&until=2026-06-01"
    )
    assert response.status_code in (400, 422)
    assert response.json()["code"] == "bad_period"
