from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import AuditEntry, Department
from wangge.core.roles import Perm
from wangge.core.scope import scope_for
from wangge.teams import selectors, services
from wangge.teams.models import Assignment, StaffMember, TeamRole
from wangge.teams.selectors import leader_on
from wangge.teams.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

GRID = "440704003001002"  # 英南村 grid 2
OTHER_STREET_GRID = "440704001001001"


def _person(system: Any, name: str, id_number: str) -> StaffMember:
    """A person registered in the grid's community, serving nowhere yet."""
    return StaffFactory.create(
        name=name, id_number=id_number, phone="13800138000", region_code=GRID[:12]
    )


def test_leader_change_keeps_history(system: Any) -> None:
    before = leader_on(actor=system, grid_code=GRID, day=dt.date(2026, 1, 1))
    assert before is not None
    new = _person(system, "新网格长", "11010519491231002X")

    services.assignment_start(
        actor=system,
        staff=new,
        grid_code=GRID,
        role=TeamRole.LEADER,
        valid_from=dt.date(2026, 6, 1),
    )

    assert leader_on(actor=system, grid_code=GRID, day=dt.date(2026, 5, 31)) == before
    assert leader_on(actor=system, grid_code=GRID, day=dt.date(2026, 6, 1)) == new
    leaders = Assignment.objects.dangerously_unscoped().filter(grid_code=GRID, role="leader")
    assert leaders.filter(valid_to=None).count() == 1
    old = leaders.get(staff=before, valid_to__isnull=False)
    assert old.valid_to == dt.date(2026, 6, 1)
    actions = list(AuditEntry.objects.order_by("-seq").values_list("action", flat=True)[:2])
    assert actions == ["assignment.start", "assignment.end"]


def test_database_allows_one_current_leader_only(system: Any) -> None:
    current = Assignment.objects.dangerously_unscoped().get(
        grid_code=GRID, role="leader", valid_to=None
    )
    other = _person(system, "另一人", "11010519491231002X")
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            team=current.team,
            grid_code=GRID,
            staff=other,
            role="leader",
            valid_from=dt.date(2026, 1, 1),
        )


def test_specialist_needs_a_department(system: Any) -> None:
    staff = _person(system, "专业员", "11010519491231002X")
    with pytest.raises(ValidationFailed) as info:
        services.assignment_start(
            actor=system,
            staff=staff,
            grid_code=GRID,
            role=TeamRole.SPECIALIST,
            valid_from=dt.date(2026, 1, 1),
        )
    assert info.value.code == "department_required"
    team = Assignment.objects.dangerously_unscoped().filter(grid_code=GRID).first().team
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            team=team,
            grid_code=GRID,
            staff=staff,
            role="specialist",
            valid_from=dt.date(2026, 1, 1),
        )
    assignment, created = services.assignment_start(
        actor=system,
        staff=staff,
        grid_code=GRID,
        role=TeamRole.SPECIALIST,
        valid_from=dt.date(2026, 1, 1),
        department=Department.objects.get(code="gongan"),
    )
    assert created and assignment.department is not None
    assert assignment.department.code == "gongan"


def test_grid_limit_per_person(system: Any, settings: Any) -> None:
    settings.TEAMS_MAX_GRIDS_PER_PERSON = 2
    staff = _person(system, "兼两格", "11010519491231002X")
    for code in ("440704003001003", "440704003001004"):
        services.assignment_start(
            actor=system,
            staff=staff,
            grid_code=code,
            role=TeamRole.PART_TIME,
            valid_from=dt.date(2026, 1, 1),
        )
    with pytest.raises(ValidationFailed) as info:
        services.assignment_start(
            actor=system,
            staff=staff,
            grid_code="440704003001005",
            role=TeamRole.PART_TIME,
            valid_from=dt.date(2026, 1, 1),
        )
    assert info.value.code == "too_many_grids"


def test_community_officer_edits_only_its_community(user: Any) -> None:
    officer = scope_for(user("demo-community"))
    staff = services.staff_assign(
        actor=officer,
        grid_code=GRID,
        data=services.StaffData(name="本村人", id_number="11010519491231002X"),
        role=TeamRole.PART_TIME,
        valid_from=dt.date(2026, 1, 1),
    ).assignment.staff
    with pytest.raises(NotFound):
        services.assignment_start(
            actor=officer,
            staff=staff,
            grid_code=OTHER_STREET_GRID,
            role=TeamRole.PART_TIME,
            valid_from=dt.date(2026, 1, 1),
        )


def test_personal_fields_are_encrypted_at_rest(system: Any) -> None:
    from django.db import connection

    staff = _person(system, "加密", "11010519491231002X")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, id_number, id_index FROM teams_staffmember WHERE id = %s", [staff.pk]
        )
        phone, id_number, index = cursor.fetchone()
    assert "13800138000" not in phone and phone.startswith("v1.")
    assert "11010519491231002X" not in id_number and id_number.startswith("v1.")
    assert len(index) == 64
    # Found by the blind index, with spaces and a lower-case x.
    assert list(selectors.staff_list(actor=system, q="110105 19491231002x")) == [staff]
    assert StaffMember.objects.dangerously_unscoped().get(pk=staff.pk).phone == "13800138000"


def test_audit_never_holds_the_personal_values(system: Any) -> None:
    services.staff_assign(
        actor=system,
        grid_code=GRID,
        data=services.StaffData(name="审计", id_number="11010519491231002X", phone="13800138000"),
        role=TeamRole.PART_TIME,
        valid_from=dt.date(2026, 1, 1),
    )
    entry = AuditEntry.objects.filter(action="staff.create").order_by("-seq")[0]
    assert "11010519491231002X" not in str(entry.details)
    assert "13800138000" not in str(entry.details)


def test_the_system_sees_people_who_serve_nowhere(system: Any) -> None:
    # An empty scope filter is "every row": adding "or serving in scope" to it must not turn it
    # into "serving only" (a registered person between assignments would vanish).
    idle = StaffFactory.create()
    seen = StaffMember.objects.visible_to(system, Perm.TEAMS_VIEW)
    assert seen.filter(pk=idle.pk).exists()
    assert seen.count() == StaffMember.objects.dangerously_unscoped().count()
