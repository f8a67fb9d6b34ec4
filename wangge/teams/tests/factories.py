"""Factories for teams: staff, and a whole grid team built through the real services."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from wangge.core.models import Department
from wangge.core.scope import Scope
from wangge.teams import services
from wangge.teams.models import PartyMemberCategory, StaffMember, TeamRole

SYSTEM = Scope.system("test")


class StaffFactory(DjangoModelFactory[StaffMember]):
    class Meta:
        model = StaffMember

    name = factory.Faker("name", locale="zh_CN")
    gender = "male"
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    id_number = factory.Faker("ssn", locale="zh_CN")
    id_index = factory.LazyAttribute(lambda o: services.id_index(o.id_number))
    phone_index = factory.LazyAttribute(lambda o: services.phone_index(o.phone))
    political_status = "party_member"
    region_code = "440704003001"


def team_for(
    grid_code: str,
    *,
    full_time: int = 1,
    part_time: int = 1,
    specialist: str | None = None,
    party_members: int = 3,
    since: dt.date = dt.date(2022, 1, 1),
) -> StaffMember:
    """A grid team: its leader (who is also the secretary of the grid's party branch),
    full-time, part-time and optionally one specialist worker sent by `specialist` (a
    department code), and formal party members. Returns the leader."""
    region = grid_code[:12]
    leader = StaffFactory.create(region_code=region)
    services.assignment_start(
        actor=SYSTEM, staff=leader, grid_code=grid_code, role=TeamRole.LEADER, valid_from=since
    )
    for role, n in ((TeamRole.FULL_TIME, full_time), (TeamRole.PART_TIME, part_time)):
        for _ in range(n):
            services.assignment_start(
                actor=SYSTEM,
                staff=StaffFactory.create(region_code=region, political_status="masses"),
                grid_code=grid_code,
                role=role,
                valid_from=since,
            )
    if specialist:
        department = Department.objects.get(code=specialist)
        services.assignment_start(
            actor=SYSTEM,
            staff=StaffFactory.create(region_code=region, department=department),
            grid_code=grid_code,
            role=TeamRole.SPECIALIST,
            valid_from=since,
            department=department,
        )
    services.party_org_save(
        actor=SYSTEM,
        grid_code=grid_code,
        kind="branch",
        name=f"{grid_code}党支部",
        secretary=leader,
    )
    for i in range(party_members):
        services.party_member_save(
            actor=SYSTEM,
            grid_code=grid_code,
            data=services.PartyMemberData(
                name=f"党员{grid_code[-3:]}{i}",
                category=PartyMemberCategory.RESIDENT,
                registered_on=since,
                phone=f"137{grid_code[-6:]}{i:02d}",
            ),
        )
    return leader
