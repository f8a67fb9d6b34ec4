"""The demo district's grid teams and party organisations, as the roster import stores them.

Exactly 190 teams with 190 leaders, 225 full-time, 171 specialist and 1,411 part-time grid
workers (the Jianghai figures); a party branch or group in every grid with the grid leader as
its secretary; party members by category. A few grids changed leader in May 2022, so the
history has something to answer ("who led it on 2022-04-19?").

The rows are a roster workbook's (`build_rows`, `workbook`), but they are not imported row by
row: some 4,900 rows through the services (every one audited, in its own savepoint) made the
demo — built in every demo test session — slow. As the demo's events history does, `plan` reads
the rows with the roster's own columns and applies the import's rules in memory (a new team on
a grid's first row, one current leader per grid — a new one closes the old on the day it
starts —, a specialist names a department, an assignment ends after it starts, the secretary is
the one current team member of that name, members join their grid's organisation); phones, ID
numbers and their blind indexes come from the same fields and `teams.services` helpers. `build`
then writes the rows in bulk, in the import's order, with one summary audit entry
(`demo.teams`). A test checks that this stores what `roster.roster_import` stores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from wangge.core.audit import audit_record
from wangge.core.scope import Scope
from wangge.core.tabular import Column, Table, iter_parsed, write_xlsx
from wangge.demo.people import PeopleFactory
from wangge.regions.models import Level, Region
from wangge.teams import roster, services
from wangge.teams.models import (
    Assignment,
    PartyMember,
    PartyMemberCategory,
    PartyOrganisation,
    StaffMember,
    Team,
    TeamRole,
)

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


def committee(community: str) -> str:
    """The community's own committee: 麻三村 → 麻三村村民委员会, 东海社区 → 东海社区居民委员会
    (not "麻三村村（居）民委员会", the form's generic wording pasted onto the name)."""
    if community.endswith("社区"):
        return f"{community}居民委员会"
    return f"{community}村民委员会" if community else "村（居）民委员会"


def _spread(total: int, slots: int, rng: random.Random) -> list[int]:
    """`total` people over `slots` grids as evenly as possible, the extras at random grids."""
    base, extra = divmod(total, slots)
    counts = [base] * slots
    for i in rng.sample(range(slots), extra):
        counts[i] += 1
    return counts


def build_rows(
    seed: int = 2022,
    *,
    grids: list[Region] | None = None,
    full_time_total: int = FULL_TIME,
    specialists: int = SPECIALISTS,
    part_time_total: int = PART_TIME,
) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]], list[list[Any]]]:
    """(earlier leaders, staff, party organisations, party members) as roster rows, for every
    current grid (or `grids`, with parents) and the Jianghai figures (or the ones given)."""
    rng = random.Random(seed)
    people = PeopleFactory(seed)
    if grids is None:
        grids = _current_grids()
    n = len(grids)
    full_time = _spread(full_time_total, n, rng)
    part_time = _spread(part_time_total, n, rng)
    specialist_grids = set(rng.sample(range(n), min(specialists, n)))
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
            or committee(grid.parent.name if grid.parent else ""),
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


def _current_grids() -> list[Region]:
    return list(
        Region.objects.dangerously_unscoped()
        .filter(level=Level.GRID, valid_to=None)
        .select_related("parent")
        .order_by("code")
    )


@dataclass
class Roster:
    """The rows the roster import would store, in the order it would store them (unsaved)."""

    rows: int = 0
    teams: dict[str, Team] = field(default_factory=dict)  # by grid, in order of creation
    staff: list[StaffMember] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    organisations: dict[str, PartyOrganisation] = field(default_factory=dict)  # by grid
    members: list[PartyMember] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "teams": len(self.teams),
            "staff": len(self.staff),
            "assignments": len(self.assignments),
            "party_organisations": len(self.organisations),
            "party_members": len(self.members),
        }


class RosterRejected(RuntimeError):
    """A row the roster import would reject (the demo's rows never should be)."""

    def __init__(self, sheet: str, number: int, code: str, message: str):
        super().__init__(f"demo roster rejected: {sheet} row {number}: {code} {message}")
        self.code = code


def _parsed(sheet: str, columns: list[Column], rows: list[list[Any]]) -> Iterator[dict[str, Any]]:
    """The rows' values as the roster import reads them (its columns and parsers), header = 1."""
    # One department lookup per name, not per specialist row (the same parser, memoised).
    columns = [
        dataclasses.replace(c, parse=functools.cache(c.parse))
        if c.key == "department" and c.parse
        else c
        for c in columns
    ]
    table = Table(headers=[c.header for c in columns], rows=iter(enumerate(rows, start=2)))
    for row in iter_parsed(table, columns):
        if row.errors:
            e = row.errors[0]
            raise RosterRejected(sheet, e.row, e.code, e.message)
        yield row.values


def plan(rows: tuple[list[list[Any]], ...], grids: dict[str, Region] | None = None) -> Roster:
    """The demo's roster rows as `roster.roster_import` (as the system, into empty tables)
    would store them: the same values, rules and order, without the database. Raises
    RosterRejected for a row the import would reject, and for a person or party member the
    rows repeat (the import would update the first; the demo never repeats one)."""
    earlier, staff_rows, org_rows, member_rows = rows
    if grids is None:
        grids = {g.code: g for g in _current_grids()}
    out = Roster()
    ids: set[str] = set()
    current_leader: dict[str, Assignment] = {}

    def grid_of(sheet: str, number: int, code: str) -> Region:
        grid = grids.get(code)
        if grid is None:
            raise RosterRejected(sheet, number, "unknown_grid", code)
        return grid

    for number, v in enumerate(
        _parsed(roster.STAFF_SHEET, roster.STAFF_COLUMNS, earlier + staff_rows), start=2
    ):
        out.rows += 1
        sheet = roster.STAFF_SHEET
        code, role, valid_from = v["grid_code"], TeamRole(v["role"]), v["valid_from"]
        grid = grid_of(sheet, number, code)
        if role == TeamRole.SPECIALIST and v["department"] is None:
            raise RosterRejected(sheet, number, "department_required", v["name"])
        index = services.id_index(v["id_number"])
        if index in ids:
            raise RosterRejected(sheet, number, "repeated_person", v["name"])
        ids.add(index)
        phone = v["phone"] or ""
        person = StaffMember(
            region_code=code[:12],
            id_index=index,
            phone_index=services.phone_index(phone),
            name=v["name"],
            gender=v["gender"] or "",
            phone=phone,
            id_number=v["id_number"],
            political_status=v["political_status"] or "",
            employer=v["employer"] or "",
            department=v["department"],
        )
        out.staff.append(person)
        team = out.teams.get(code)
        if team is None:
            team = out.teams[code] = Team(grid_code=code, name=services.team_name(grid))
        if role == TeamRole.LEADER:
            leader = current_leader.pop(code, None)
            if leader is not None:
                if valid_from <= leader.valid_from:
                    raise RosterRejected(sheet, number, "start_before_current", str(valid_from))
                leader.valid_to = valid_from  # leader_changed
        assignment = Assignment(
            team=team,
            grid_code=code,
            staff=person,
            role=role,
            department=v["department"] if role == TeamRole.SPECIALIST else None,
            valid_from=valid_from,
        )
        out.assignments.append(assignment)
        if v["valid_to"]:
            if v["valid_to"] <= valid_from:
                raise RosterRejected(sheet, number, "end_before_start", str(v["valid_to"]))
            assignment.valid_to = v["valid_to"]
        elif role == TeamRole.LEADER:
            current_leader[code] = assignment

    serving: dict[tuple[str, str], list[StaffMember]] = {}
    for a in out.assignments:
        if a.valid_to is None:
            serving.setdefault((a.grid_code, a.staff.name), []).append(a.staff)
    for number, v in enumerate(_parsed(roster.ORG_SHEET, roster.ORG_COLUMNS, org_rows), start=2):
        out.rows += 1
        code = v["grid_code"]
        grid_of(roster.ORG_SHEET, number, code)
        secretary = None
        if v["secretary"]:
            matches = {id(s): s for s in serving.get((code, v["secretary"]), [])}
            if len(matches) != 1:
                raise RosterRejected(roster.ORG_SHEET, number, "unknown_secretary", code)
            secretary = next(iter(matches.values()))
        if code in out.organisations:
            raise RosterRejected(roster.ORG_SHEET, number, "repeated_organisation", code)
        out.organisations[code] = PartyOrganisation(
            grid_code=code,
            kind=v["kind"],
            name=v["name"],
            secretary=secretary,
            parent_name=v["parent_name"] or "",
        )

    keys: set[tuple[str, str, str]] = set()
    for number, v in enumerate(
        _parsed(roster.MEMBER_SHEET, roster.MEMBER_COLUMNS, member_rows), start=2
    ):
        out.rows += 1
        code = v["grid_code"]
        grid_of(roster.MEMBER_SHEET, number, code)
        phone = v["phone"] or ""
        index = services.phone_index(phone)
        if (code, v["name"], index) in keys:
            raise RosterRejected(roster.MEMBER_SHEET, number, "repeated_member", v["name"])
        keys.add((code, v["name"], index))
        out.members.append(
            PartyMember(
                grid_code=code,
                name=v["name"],
                phone_index=index,
                organisation=out.organisations.get(code),
                gender=v["gender"] or "",
                phone=phone,
                category=v["category"],
                home_organisation=v["home_organisation"] or "",
                formal=True if v["formal"] is None else v["formal"],
                registered_on=v["registered_on"],
            )
        )
    return out


BATCH = 500


def write(planned: Roster) -> None:
    """Store a planned roster in bulk (call inside a transaction), parents first so that the
    children's foreign keys take the parents' new ids."""
    if Team.objects.dangerously_unscoped().exists():
        raise RuntimeError("the demo's teams are written into empty tables only")
    Team.objects.bulk_create(list(planned.teams.values()), batch_size=BATCH)
    StaffMember.objects.bulk_create(planned.staff, batch_size=BATCH)
    Assignment.objects.bulk_create(planned.assignments, batch_size=BATCH)
    PartyOrganisation.objects.bulk_create(list(planned.organisations.values()), batch_size=BATCH)
    PartyMember.objects.bulk_create(planned.members, batch_size=BATCH)


def build(actor: Scope) -> roster.RosterResult:
    """The demo's teams, in bulk, with one summary audit entry; the counts as an import's."""
    planned = plan(build_rows())
    with transaction.atomic():
        write(planned)
        audit_record(
            actor=actor,
            action="demo.teams",
            object_type="roster",
            object_id="demo-roster.xlsx",
            details=planned.counts(),
        )
    return roster.RosterResult(total=planned.rows, inserted=planned.rows, stored=True)


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
