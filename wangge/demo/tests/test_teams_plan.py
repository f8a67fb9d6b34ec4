"""The demo's teams are planned in memory and bulk-written (`demo/teams.py`): they must be what
the roster import stores from the same rows. Runs on the small test world, on a few of its grids
with small figures (the full demo's figures are checked in the demo session)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from wangge.core.scope import Scope
from wangge.demo import teams
from wangge.demo.people import PeopleFactory
from wangge.regions.models import Region
from wangge.teams import roster
from wangge.teams.models import Assignment, PartyMember, PartyOrganisation, StaffMember, Team

pytestmark = pytest.mark.django_db

GRIDS = ["440704001001001", "440704002001004", "440704003001001", "440704003001002"]


def _grids() -> list[Region]:
    return list(
        Region.objects.dangerously_unscoped()
        .filter(code__in=GRIDS, valid_to=None)
        .select_related("parent")
        .order_by("code")
    )


def _clear_teams() -> None:
    """The test world's teams away (rolled back with the test): both paths start empty."""
    PartyMember.objects.dangerously_unscoped().all().delete()
    PartyOrganisation.objects.dangerously_unscoped().all().delete()
    Assignment.objects.dangerously_unscoped().all().delete()
    Team.objects.dangerously_unscoped().all().delete()
    StaffMember.objects.dangerously_unscoped().all().delete()


def _stored() -> dict[str, list[tuple[Any, ...]]]:
    """The teams tables in the order they were written, foreign keys by natural key, without
    ids and timestamps; phones and ID numbers decrypted, blind indexes as stored."""

    def dept(d: Any) -> str | None:
        return d.code if d else None

    return {
        "teams": [
            (t.grid_code, t.name) for t in Team.objects.dangerously_unscoped().order_by("pk")
        ],
        "staff": [
            (
                s.name,
                s.gender,
                s.phone,
                s.phone_index,
                s.id_number,
                s.id_index,
                s.political_status,
                s.employer,
                dept(s.department),
                s.user_id,
                s.region_code,
            )
            for s in StaffMember.objects.dangerously_unscoped()
            .select_related("department")
            .order_by("pk")
        ],
        "assignments": [
            (
                a.team.grid_code,
                a.grid_code,
                a.staff.id_index,
                a.role,
                dept(a.department),
                a.valid_from,
                a.valid_to,
            )
            for a in Assignment.objects.dangerously_unscoped()
            .select_related("team", "staff", "department")
            .order_by("pk")
        ],
        "organisations": [
            (
                o.grid_code,
                o.kind,
                o.name,
                o.secretary.id_index if o.secretary else None,
                o.parent_name,
            )
            for o in PartyOrganisation.objects.dangerously_unscoped()
            .select_related("secretary")
            .order_by("pk")
        ],
        "members": [
            (
                m.grid_code,
                m.organisation.grid_code if m.organisation else None,
                m.name,
                m.gender,
                m.phone,
                m.phone_index,
                m.category,
                m.home_organisation,
                m.formal,
                m.registered_on,
                m.staff_id,
            )
            for m in PartyMember.objects.dangerously_unscoped()
            .select_related("organisation")
            .order_by("pk")
        ],
    }


def _rows() -> tuple[list[list[Any]], ...]:
    earlier, staff, orgs, members = teams.build_rows(
        grids=_grids(), full_time_total=6, specialists=2, part_time_total=7
    )
    # And a leader who takes over without the roster ending the old one: the new start closes
    # the current leader's assignment (both paths must do it the same way).
    people = PeopleFactory(7)
    successor = [*next(r for r in staff if r[0] == GRIDS[0] and r[2] == "网格长")]
    successor[3] = people.name("female")
    successor[4] = "女"
    successor[5] = people.id_number("female", 30, 50, teams.TODAY)
    successor[6] = people.phone()
    successor[10] = dt.date(2024, 3, 1)
    orgs = [[*o[:3], successor[3], *o[4:]] if o[0] == GRIDS[0] else o for o in orgs]
    return earlier, [*staff, successor], orgs, members


def test_planned_teams_are_what_the_roster_import_stores(system: Scope) -> None:
    _clear_teams()
    rows = _rows()
    with transaction.atomic():
        result = roster.roster_import(
            actor=system, data=teams.workbook(rows), filename="demo-roster.xlsx"
        )
        assert result.stored, [e.as_dict() for e in result.errors[:3]]
        imported = _stored()
        transaction.set_rollback(True)
    assert not Team.objects.dangerously_unscoped().exists()

    planned = teams.plan(rows, {g.code: g for g in _grids()})
    teams.write(planned)

    assert _stored() == imported
    assert planned.rows == result.total == result.inserted
    # What the comparison covers: every kind of row, an ended leader and a specialist.
    assert {k: len(v) for k, v in imported.items()} == {
        "teams": 4,
        "staff": 4 + 6 + 2 + 7 + len(rows[0]) + 1,
        "assignments": 4 + 6 + 2 + 7 + len(rows[0]) + 1,
        "organisations": 4,
        "members": len(rows[3]),
    }
    ended = [a for a in imported["assignments"] if a[6] is not None]
    assert len(ended) == len(rows[0]) + 1 and {a[3] for a in ended} == {"leader"}
    assert any(a[3] == "specialist" and a[4] for a in imported["assignments"])


def test_build_writes_one_summary_audit_entry(system: Scope) -> None:
    from wangge.core.models import AuditEntry

    _clear_teams()
    before = AuditEntry.objects.count()
    result = teams.build(system)
    assert result.stored and result.total == result.inserted > 0
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry is not None and entry.action == "demo.teams"
    assert entry.details["staff"] == StaffMember.objects.dangerously_unscoped().count()
    assert entry.details["party_members"] == PartyMember.objects.dangerously_unscoped().count()


def _leader_row(grid: str, start: dt.date, end: dt.date | None = None, seed: int = 3) -> list[Any]:
    people = PeopleFactory(seed)
    return [
        grid,
        "",
        "网格长",
        people.name("male"),
        "男",
        people.id_number("male", 30, 50, teams.TODAY),
        people.phone(),
        "中共党员",
        "",
        "",
        start,
        end or "",
    ]


@pytest.mark.parametrize(
    ("staff", "code"),
    [
        # The new leader must start after the current one.
        (
            [
                _leader_row(GRIDS[0], dt.date(2022, 5, 1)),
                _leader_row(GRIDS[0], dt.date(2022, 5, 1), seed=4),
            ],
            "start_before_current",
        ),
        ([_leader_row(GRIDS[0], dt.date(2022, 5, 1), dt.date(2022, 5, 1))], "end_before_start"),
        ([_leader_row("440704009009009", dt.date(2022, 5, 1))], "unknown_grid"),
        ([[*_leader_row(GRIDS[0], dt.date(2022, 5, 1))[:2], "专业网格员"]], "required"),
    ],
)
def test_plan_rejects_what_the_import_rejects(staff: list[list[Any]], code: str) -> None:
    with pytest.raises(teams.RosterRejected) as raised:
        teams.plan(([], staff, [], []), {g.code: g for g in _grids()})
    assert raised.value.code == code


def test_plan_wants_the_secretary_among_the_current_team() -> None:
    earlier, staff, orgs, members = _rows()
    # The grid's leader who handed over is no longer on the team.
    replaced = next(r for r in staff if r[0] == GRIDS[0] and r[2] == "网格长")
    orgs = [[*o[:3], replaced[3], *o[4:]] if o[0] == GRIDS[0] else o for o in orgs]
    with pytest.raises(teams.RosterRejected) as raised:
        teams.plan((earlier, staff, orgs, members), {g.code: g for g in _grids()})
    assert raised.value.code == "unknown_secretary"


def test_plan_wants_a_department_for_a_specialist() -> None:
    row = _leader_row(GRIDS[0], dt.date(2022, 5, 1))
    row[2] = "专业网格员"
    with pytest.raises(teams.RosterRejected) as raised:
        teams.plan(([], [row], [], []), {g.code: g for g in _grids()})
    assert raised.value.code == "department_required"
