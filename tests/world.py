"""The test world: a small Jianghai built by the modules' factories in about a second.

It keeps the demo's codes and logins for the places tests talk about (礼乐街道 440704003,
英南村 440704003001, its grid 1 for demo-grid, another street 440704001 …) so that a test reads
like the demo, but it holds a few records per grid instead of the demo's thousands, and no test
depends on the demo's numbers. The demo itself is for the browser and end-to-end tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from factory import random as factory_random

from wangge.core.roles import Role
from wangge.core.tests.factories import user_with
from wangge.regions.selectors import interior_point_unscoped
from wangge.regions.tests.factories import (
    CommunitySpec,
    StreetSpec,
    department_layer,
    district_layer,
    import_layer,
)

DISTRICT = "440704"
PASSWORD = "test-password-2026"

STREETS = [
    StreetSpec(
        "440704001",
        "江南街道",
        [CommunitySpec("440704001001", "东海社区", ["001", "002"])],
    ),
    StreetSpec(
        "440704002",
        "外海街道",
        [CommunitySpec("440704002001", "麻三村", ["004", "005", "006"])],
    ),
    StreetSpec(
        "440704003",
        "礼乐街道",
        [
            CommunitySpec("440704003001", "英南村", ["001", "002", "003", "004", "005"]),
            CommunitySpec("440704003002", "南村", ["001", "002"]),
        ],
    ),
]

USERS: list[tuple[str, tuple[Any, ...]]] = [
    ("demo-district", (Role.DISTRICT_ADMIN, DISTRICT)),
    ("demo-street", (Role.STREET_OFFICER, "440704003")),
    ("demo-community", (Role.COMMUNITY_OFFICER, "440704003001")),
    ("demo-grid", (Role.GRID_LEADER, "440704003001001")),
    ("demo-dept", (Role.DEPARTMENT_OFFICER, DISTRICT, "chengguan")),
    ("demo-auditor", (Role.AUDITOR, DISTRICT)),
]


def grid_codes() -> list[str]:
    return [c.code + g for s in STREETS for c in s.communities for g in c.grids]


@transaction.atomic
def build() -> None:
    """Regions (through the real importer), the six logins, a team per grid, a few ledger
    records per grid and a handful of events in several states (through the real workflow)."""
    factory_random.reseed_random("wangge-test-world")
    import_layer(district_layer(DISTRICT, "江海区", STREETS))
    department_layer("chengguan", "城管", STREETS)
    for username, grant in USERS:
        user_with(grant, username=username)
    _teams()
    _ledger()
    _events()


MINE = "440704003001001"  # demo-grid's grid


def _teams() -> None:
    from wangge.teams import services
    from wangge.teams.models import TeamRole
    from wangge.teams.tests.factories import SYSTEM, StaffFactory, team_for

    for n, code in enumerate(grid_codes()):
        specialist = "chengguan" if n % 3 == 0 or code == MINE else None
        team_for(code, specialist=specialist, since=dt.date(2021, 1, 1))
    # Like the demo, 英南村第1网格 changed leader on 2022-05-01 (history answers who led before).
    leader = StaffFactory.create(region_code=MINE[:12])
    services.assignment_start(
        actor=SYSTEM,
        staff=leader,
        grid_code=MINE,
        role=TeamRole.LEADER,
        valid_from=dt.date(2022, 5, 1),
    )
    services.party_org_save(
        actor=SYSTEM, grid_code=MINE, kind="branch", name=f"{MINE}党支部", secretary=leader
    )


def _ledger() -> None:
    from wangge.ledger.tests import factories as f

    for n, code in enumerate(grid_codes()):
        lon, lat = interior_point_unscoped(code)
        estate = f.EstateFactory(grid_code=code, code=f"{code[:12]}{code[-3:]}")
        building = f.BuildingFactory(estate=estate, code="001", lon=lon, lat=lat)
        room = f.RoomFactory(building=building, number="101")
        f.RoomFactory(building=building, number="102", use="rented")
        household = f.HouseholdFactory(grid_code=code, code=f"H{code}00001", room=room)
        head = f.PersonFactory(
            grid_code=code, room=room, household=household, relation="户主", care_tags=""
        )
        household.head = head
        household.save(update_fields=["head"])
        f.PersonFactory(
            grid_code=code, room=room, household=household, relation="配偶", gender="female"
        )
        f.PersonFactory(grid_code=code, care_tags="elderly_alone", population_type="2")
        if n % 4 == 0:
            f.SensitiveTagFactory(person=f.PersonFactory(grid_code=code))
        f.OrganisationFactory(grid_code=code, lon=lon, lat=lat)
        f.ThingFactory(grid_code=code, lon=lon, lat=lat)
        f.ThingFactory(grid_code=code, lon=lon, lat=lat, major="03", minor="03", name="果皮箱")


def _events() -> None:
    """Events in several states, each through intake and the workflow."""
    from wangge.core.models import User
    from wangge.core.scope import scope_for
    from wangge.events import workflow
    from wangge.events.intake import Report, event_report

    def who(name: str) -> Any:
        return scope_for(User.objects.get(username=name))

    when = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    for n, code in enumerate(grid_codes()):
        lon, lat = interior_point_unscoped(code)
        reporter = "demo-grid" if code == MINE else "demo-district"
        filed = event_report(
            who(reporter),
            Report(category="0102", title=f"暴露垃圾{n}", lon=lon, lat=lat),
            now=when,
        ).event
        if n % 2 == 0:
            workflow.transition(
                who("demo-district"), filed, "dispatch", department="chengguan", now=when
            )
        if n % 3 == 0:
            event_report(
                who("demo-district"),
                Report(category="0101", title=f"热线来电{n}", lon=lon, lat=lat, channel="hotline"),
                now=when,
            )
