from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import AuditEntry, Department
from wangge.core.scope import scope_for
from wangge.teams import services
from wangge.teams.models import Assignment, StaffMember, TeamRole
from wangge.teams.selectors import leader_on

pytestmark = pytest.mark.django_db

GRID = "440704003001002"  # 英南村 grid 2
OTHER_STREET_GRID = "440704001001001"


def _person(system: Any, name: str, id_number: str) -> StaffMember:
    staff, _changed = services.staff_save(
        actor=system,
        data=services.StaffData(name=name, id_number=id_number, phone="13800138000"),
        region_code=GRID[:12],
    )
    return staff


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
    staff, _ = services.staff_save(
        actor=officer,
        data=services.StaffData(name="本村人", id_number="11010519491231002X"),
        region_code=GRID[:12],
    )
    services.assignment_start(
        actor=officer,
        staff=staff,
        grid_code=GRID,
        role=TeamRole.PART_TIME,
        valid_from=dt.date(2026, 1, 1),
    )
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
    found = services.staff_find(id_number="110105 19491231002x")  # spaces and lower-case x
    assert found == staff
    assert StaffMember.objects.dangerously_unscoped().get(pk=staff.pk).phone == "13800138000"


def test_audit_never_holds_the_personal_values(system: Any) -> None:
    _person(system, "审计", "11010519491231002X")
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert entry.action == "staff.create"
    assert "11010519491231002X" not in str(entry.details)
    assert "13800138000" not in str(entry.details)
