from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import call_command

from wangge.core.models import User
from wangge.demo.builder import DEMO_USERS
from wangge.regions.models import Layer, Region
from wangge.teams.selectors import leader_on

pytestmark = [pytest.mark.django_db, pytest.mark.demo]


def test_demo_district_shape() -> None:
    regions = Region.objects.dangerously_unscoped().filter(valid_to=None)
    assert regions.filter(level="district").get().name == "江海区"
    streets = list(regions.filter(level="street").values_list("name", flat=True))
    assert sorted(streets) == sorted(["江南街道", "外海街道", "礼乐街道"])
    assert regions.filter(level="grid").count() == 190
    lile = regions.get(name="礼乐街道")
    assert {"英南村", "南村"} <= set(regions.filter(parent=lile).values_list("name", flat=True))


def test_six_demo_users_with_their_grants() -> None:
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        grant = user.grants.get()
        assert (grant.role, grant.region_code) == (spec.role, spec.region)
    assert len(DEMO_USERS) == 6
    department = User.objects.get(username="demo-dept").grants.get().department
    assert department is not None and department.code == "chengguan"


def test_department_layers_exist_and_differ() -> None:
    from wangge.regions.models import DepartmentGrid

    assert Layer.objects.count() == 8
    counts = {
        layer.slug: DepartmentGrid.objects.dangerously_unscoped().filter(layer=layer).count()
        for layer in Layer.objects.all()
    }
    assert all(n > 0 for n in counts.values())
    assert any(n != 190 for n in counts.values())


def test_demo_coverage_has_the_jianghai_figures(capsys: Any) -> None:
    call_command("teams", "check", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True, report["problems"][:3]
    assert report["teams"] == 190
    assert report["workers"] == {
        "leader": 190,
        "full_time": 225,
        "specialist": 171,
        "part_time": 1411,
    }
    assert report["party_organisations"] == 190
    assert sum(s["grids"] for s in report["by_street"].values()) == 190
    assert report["by_community"]["440704003001"]["name"] == "英南村"


def test_demo_history_answers_who_led_on_2022_04_19(system: Any) -> None:
    # The demo's 英南村第1网格 changed leader on 2022-05-01.
    grid = "440704003001001"
    earlier = leader_on(actor=system, grid_code=grid, day=dt.date(2022, 4, 19))
    now = leader_on(actor=system, grid_code=grid, day=dt.date(2022, 5, 1))
    assert earlier is not None and now is not None and earlier != now


def test_demo_teams_each_grid_led_with_its_leader_as_secretary() -> None:
    from wangge.core.models import AuditEntry
    from wangge.teams.models import Assignment, PartyOrganisation, StaffMember, Team

    grids = set(
        Region.objects.dangerously_unscoped()
        .filter(level="grid", valid_to=None)
        .values_list("code", flat=True)
    )
    assert set(Team.objects.dangerously_unscoped().values_list("grid_code", flat=True)) == grids
    current = Assignment.objects.dangerously_unscoped().filter(valid_to=None)
    leaders = dict(current.filter(role="leader").values_list("grid_code", "staff_id"))
    assert set(leaders) == grids
    secretaries = dict(
        PartyOrganisation.objects.dangerously_unscoped().values_list("grid_code", "secretary_id")
    )
    assert secretaries == leaders
    specialists = current.filter(role="specialist")
    assert specialists.count() == 171
    assert not specialists.filter(department=None).exists()
    # The leaders who handed over in May 2022: still in the history, 英南村第1网格's among them.
    ended = Assignment.objects.dangerously_unscoped().filter(role="leader", valid_to__isnull=False)
    assert set(ended.values_list("valid_to", flat=True)) == {dt.date(2022, 5, 1)}
    assert ended.filter(grid_code="440704003001001").exists()
    # Encrypted and indexed as the services store them: a person is found by ID number.
    from wangge.teams import services

    person = StaffMember.objects.dangerously_unscoped().order_by("pk").first()
    assert person is not None and person.id_number and person.phone
    found = StaffMember.objects.dangerously_unscoped().get(
        id_index=services.id_index(person.id_number)
    )
    assert found.pk == person.pk and found.phone_index == services.phone_index(person.phone)
    # One summary audit entry for the whole roster, not one per row.
    entry = AuditEntry.objects.get(action="demo.teams")
    assert entry.details["teams"] == 190
    assert entry.details["party_organisations"] == 190
    assert not AuditEntry.objects.filter(action__in=["staff.create", "assignment.start"]).exists()


def test_demo_names_say_each_part_once() -> None:
    """Issue 14: "麻三村村（居）民委员会" and "东海社区东海社区01号小区" in the demo."""
    from wangge.ledger.models import Building
    from wangge.teams.models import StaffMember

    employers = set(StaffMember.objects.dangerously_unscoped().values_list("employer", flat=True))
    assert not [e for e in employers if "（居）" in e]
    assert "英南村村民委员会" in employers
    assert any(e.endswith("社区居民委员会") for e in employers)
    buildings = Building.objects.dangerously_unscoped().values_list("address", "estate__name")
    for address, estate in buildings[:500]:
        community = estate.removesuffix("号小区")[:-2]
        assert address.startswith(estate)
        assert address.count(community) == 1, address
