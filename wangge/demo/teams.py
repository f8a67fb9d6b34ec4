"""The demo district's grid teams and party organisations, imported through the roster import.

Exactly 190 teams with 190 leaders, 225 full-time, 171 specialist and 1,411 part-time grid
workers (the Jianghai figures); a party branch or group in every grid with the grid leader as
its secretary; party members by category. A few grids changed leader in May 2022, so the
history has something to answer ("who led it on 2022-04-19?").
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from wangge.core.scope import Scope
from wangge.core.tabular import write_xlsx
from wangge.demo.people import PeopleFactory
from wangge.regions.models import Level, Region
from wangge.teams import roster
from wangge.teams.models import PartyMemberCategory, TeamRole

FULL_TIME = 225
SPECIALISTS = 171
PART_TIME = 1411
SPECIALIST_DEPARTMENTS = ("公安", "城管", "市场监管", "卫生健康", "应急管理")
TODAY = dt.date(2026, 11, 1)
LEADER_CHANGED_ON = dt.date(2022, 5, 1)
CATEGORY_WEIGHTS = [
    (PartyMemberCategory.DUAL_REGISTRATION, 30),
    (PartyMemberCategory.RETIRED_CADRE, 20),
    (PartyMemberCategory.VETERAN, 10),
    (PartyMemberCategory.PROPERTY_COMPANY, 8),
    (PartyMemberCategory.RESIDENT, 28),
    (PartyMemberCategory.OTHER, 4),
]


def _spread(total: int, slots: int, rng: random.Random) -> list[int]:
    """`total` people over `slots` grids as evenly as possible, the extras at random grids."""
    base, extra = divmod(total, slots)
    counts = [base] * slots
    for i in rng.sample(range(slots), extra):
        counts[i] += 1
    return counts


def build_rows(
    seed: int = 2022,
) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]], list[list[Any]]]:
    """(earlier leaders, staff, party organisations, party members) as roster rows."""
    rng = random.Random(seed)
    people = PeopleFactory(seed)
    grids = list(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .select_related("parent")
        .order_by("code")
    )
    n = len(grids)
    full_time = _spread(FULL_TIME, n, rng)
    part_time = _spread(PART_TIME, n, rng)
    specialist_grids = set(rng.sample(range(n), min(SPECIALISTS, n)))
    changed_leader = set(rng.sample(range(n), min(12, n))) | {0}
    # 英南村第1网格 (the demo grid leader's grid) is among those that changed leader.
    yingnan_first = next((i for i, g in enumerate(grids) if g.code == "440704003001001"), 0)
    changed_leader.add(yingnan_first)

    def staff_row(
        grid: Region,
        role: TeamRole,
        start: dt.date,
        *,
        department: str = "",
        political: str = "",
        min_age: int = 23,
        max_age: int = 58,
    ) -> list[Any]:
        gender = people.gender(0.55 if role != TeamRole.PART_TIME else 0.45)
        return [
            grid.code,
            grid.name,
            roster.ROLE_LABELS[role],
            people.name(gender),
            roster.GENDER_LABELS[gender],  # type: ignore[index]
            people.id_number(gender, min_age, max_age, TODAY),
            people.phone(),
            political or rng.choice(("中共党员", "群众", "群众", "共青团员")),
            (department and f"江海区{department}")
            or f"{grid.parent.name if grid.parent else ''}村（居）民委员会",
            department,
            start,
            "",
        ]

    earlier: list[list[Any]] = []
    staff: list[list[Any]] = []
    orgs: list[list[Any]] = []
    members: list[list[Any]] = []
    spec_index = 0
    for i, grid in enumerate(grids):
        community = grid.parent.name if grid.parent else ""
        if i in changed_leader:
            old = staff_row(
                grid, TeamRole.LEADER, dt.date(2019, 3, 1), political="中共党员", min_age=35
            )
            old[11] = LEADER_CHANGED_ON  # 离任日期
            earlier.append(old)
            start = LEADER_CHANGED_ON
        else:
            start = dt.date(2021, rng.randint(1, 12), 1)
        leader = staff_row(grid, TeamRole.LEADER, start, political="中共党员", min_age=30)
        staff.append(leader)
        for _ in range(full_time[i]):
            staff.append(staff_row(grid, TeamRole.FULL_TIME, dt.date(2022, rng.randint(1, 4), 1)))
        if i in specialist_grids:
            department = SPECIALIST_DEPARTMENTS[spec_index % len(SPECIALIST_DEPARTMENTS)]
            spec_index += 1
            staff.append(
                staff_row(grid, TeamRole.SPECIALIST, dt.date(2022, 4, 1), department=department)
            )
        for _ in range(part_time[i]):
            staff.append(
                staff_row(
                    grid,
                    TeamRole.PART_TIME,
                    dt.date(2022, 4, rng.randint(1, 28)),
                    min_age=20,
                    max_age=68,
                )
            )
        n_members = (
            rng.choice((2, 2, 4, 6, 8, 10, 12, 15, 18, 24)) if i % 9 == 4 else rng.randint(5, 24)
        )
        # A branch needs three formal members; smaller grids set up a party group instead.
        kind = "党支部" if n_members >= 3 else "党小组"
        orgs.append(
            [
                grid.code,
                kind,
                f"{grid.name}{kind}",
                leader[3],
                f"中共{community}{'委员会' if '村' in community else '社区委员会'}",
            ]
        )
        categories, weights = zip(*CATEGORY_WEIGHTS, strict=True)
        for _ in range(n_members):
            gender = people.gender(0.6)
            category = rng.choices(categories, weights)[0]
            members.append(
                [
                    grid.code,
                    people.name(gender),
                    roster.GENDER_LABELS[gender],  # type: ignore[index]
                    people.phone(),
                    roster.CATEGORY_LABELS[category],
                    _home_org(category, rng),
                    "是",
                    dt.date(2022, rng.randint(1, 12), rng.randint(1, 28)),
                ]
            )
    return earlier, staff, orgs, members


def _home_org(category: PartyMemberCategory, rng: random.Random) -> str:
    return {
        PartyMemberCategory.DUAL_REGISTRATION: rng.choice(
            (
                "江海区人民法院机关党支部",
                "江海区教育局机关党支部",
                "江门供电局江海分局党支部",
                "江海区税务局党支部",
            )
        ),
        PartyMemberCategory.RETIRED_CADRE: "江海区离退休干部党委",
        PartyMemberCategory.VETERAN: "江海区退役军人事务局党支部",
        PartyMemberCategory.PROPERTY_COMPANY: rng.choice(
            ("碧桂园物业党支部", "保利物业江门党支部", "万科物业党支部")
        ),
        PartyMemberCategory.RESIDENT: "所在社区党委",
        PartyMemberCategory.OTHER: "流动党员党支部",
    }[category]


def workbook(rows: tuple[list[list[Any]], ...]) -> bytes:
    earlier, staff, orgs, members = rows
    return write_xlsx(
        [
            (roster.STAFF_SHEET, [c.header for c in roster.STAFF_COLUMNS], earlier + staff),
            (roster.ORG_SHEET, [c.header for c in roster.ORG_COLUMNS], orgs),
            (roster.MEMBER_SHEET, [c.header for c in roster.MEMBER_COLUMNS], members),
        ]
    )


def build(actor: Scope) -> roster.RosterResult:
    result = roster.roster_import(
        actor=actor, data=workbook(build_rows()), filename="demo-roster.xlsx"
    )
    if not result.stored:
        raise RuntimeError(f"demo roster rejected: {[e.as_dict() for e in result.errors[:5]]}")
    return result


def add_problems(actor: Scope) -> list[str]:
    """Deliberate coverage problems for trying out `wangge teams check` (demo --with-problems):
    a grid whose leader left, a grid without a party organisation, a secretary who is not the
    leader, and a branch with too few formal members."""
    from wangge.teams import services
    from wangge.teams.models import Assignment, PartyMember, PartyOrganisation

    done = []
    leader = (
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code="440704002001003", role=TeamRole.LEADER, valid_to=None)
        .first()
    )
    if leader is not None:
        services.assignment_end(actor=actor, assignment_id=leader.pk, valid_to=TODAY)
        done.append("440704002001003 no_leader")
    PartyMember.objects.dangerously_unscoped().filter(grid_code="440704002001004").update(
        organisation=None
    )
    PartyOrganisation.objects.dangerously_unscoped().filter(grid_code="440704002001004").delete()
    done.append("440704002001004 no_party_organisation")
    org = (
        PartyOrganisation.objects.dangerously_unscoped().filter(grid_code="440704002001005").first()
    )
    worker = (
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code="440704002001005", role=TeamRole.PART_TIME, valid_to=None)
        .first()
    )
    if org is not None and worker is not None:
        services.party_org_save(
            actor=actor,
            grid_code=org.grid_code,
            kind=org.kind,
            name=org.name,
            secretary=worker.staff,
            parent_name=org.parent_name,
        )
        done.append("440704002001005 leader_not_secretary")
    members = PartyMember.objects.dangerously_unscoped().filter(grid_code="440704002001006")
    keep = list(members.values_list("pk", flat=True)[:2])
    members.exclude(pk__in=keep).update(formal=False)
    PartyOrganisation.objects.dangerously_unscoped().filter(grid_code="440704002001006").update(
        kind="branch"
    )
    done.append("440704002001006 branch_too_small")
    return done
