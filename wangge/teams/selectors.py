"""Reads of teams, always through the actor's scope, and what a page may offer the actor there
(`team_abilities`, `staff_abilities`, `roster_abilities`): answered by the rule functions the
services enforce (`services.may_*`), so a page and the service cannot disagree."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from wangge.core.errors import NotFound
from wangge.core.personal import exact_query, exact_search_allowed
from wangge.core.roles import Perm
from wangge.core.scope import Scope, access, as_scope, require_any
from wangge.core.tables import sorted_by
from wangge.regions.models import Level, Region
from wangge.regions.selectors import region_get
from wangge.teams import roster, services
from wangge.teams.models import (
    Assignment,
    PartyMember,
    PartyOrganisation,
    PartyOrgKind,
    StaffMember,
    Team,
    TeamRole,
)
from wangge.teams.services import id_index, phone_index

ROLE_ORDER = [TeamRole.LEADER, TeamRole.FULL_TIME, TeamRole.SPECIALIST, TeamRole.PART_TIME]


@dataclass
class TeamView:
    grid: Region
    team: Team | None
    members: dict[str, list[Assignment]]
    party_org: PartyOrganisation | None
    party_members: list[PartyMember]


@dataclass(frozen=True)
class TeamAbilities:
    can_edit: bool  # add and end assignments (`services.staff_assign`, `assignment_end`)
    can_reveal: bool  # full phones of the members, the notice card with full phones


def team_abilities(*, actor: Any, grid_code: str) -> TeamAbilities:
    return TeamAbilities(
        can_edit=services.may_edit_team(actor, grid_code),
        can_reveal=services.may_reveal_team(actor, grid_code),
    )


def staff_abilities(*, actor: Any, staff: StaffMember) -> dict[str, bool]:
    return {"can_reveal": services.may_reveal_staff(actor, staff)}


def roster_abilities(*, actor: Any) -> dict[str, bool]:
    """The roster page: NotFound without teams.view anywhere."""
    require_any(actor, Perm.TEAMS_VIEW)
    return {"can_import": roster.may_import(actor), "can_unmask": roster.may_unmask(actor)}


def _require_team(actor: Any, grid_code: str) -> None:
    if not services.may_view_team(actor, grid_code):
        raise NotFound()


def team_get(*, actor: Any, grid_code: str) -> TeamView:
    """A grid's team now: members by role, party organisation and members (NotFound where the
    team does not exist for the actor: out of scope, or a department grant)."""
    scope = as_scope(actor)
    _require_team(scope, grid_code)
    grid = region_get(actor=Scope.system("teams"), code=grid_code)
    if grid.level != Level.GRID:
        raise NotFound()
    team = Team.objects.visible_to(scope, Perm.TEAMS_VIEW).filter(grid_code=grid_code).first()
    members: dict[str, list[Assignment]] = {r.value: [] for r in ROLE_ORDER}
    for a in (
        Assignment.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(grid_code=grid_code, valid_to=None)
        .select_related("staff", "staff__department", "department")
        .order_by("role", "valid_from", "staff__name")
    ):
        members[a.role].append(a)
    org = (
        PartyOrganisation.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(grid_code=grid_code)
        .select_related("secretary")
        .first()
    )
    party_members = list(
        PartyMember.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(grid_code=grid_code)
        .order_by("category", "name")
    )
    return TeamView(grid, team, members, org, party_members)


def assignment_get(*, actor: Any, assignment_id: int) -> Assignment:
    return access(
        Assignment.objects.select_related("staff", "department"),
        actor,
        Perm.TEAMS_VIEW,
        pk=assignment_id,
    )


def staff_get(*, actor: Any, staff_id: int) -> StaffMember:
    return access(
        StaffMember.objects.select_related("department"), actor, Perm.TEAMS_VIEW, pk=staff_id
    )


# The staff directory's sort keys (a whitelist; the id breaks ties; phone and ID are encrypted).
STAFF_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "gender": ("gender",),
    "political_status": ("political_status",),
    "employer": ("employer",),
}


def staff_list(
    *, actor: Any, q: str = "", grid_code: str = "", role: str = "", sort: str = ""
) -> QuerySet[StaffMember]:
    """People in scope (for a department grant: the staff its department sent). `q` matches a
    name, or exactly an ID number or phone (blind index) — the latter only for roles that may
    reveal, among the staff they may reveal, audited and limited (see
    `core.personal.exact_search_allowed`). NotFound without teams.view. `sort`: one of
    STAFF_SORTS ("-" first: descending; default by name), then the id."""
    scope = require_any(actor, Perm.TEAMS_VIEW)
    qs = StaffMember.objects.visible_to(scope, Perm.TEAMS_VIEW).select_related("department")
    q = (q or "").strip()
    if q:
        exact = exact_query(q)
        if exact is None:
            qs = qs.filter(name__contains=q)
        else:
            by, value = exact
            exact_search_allowed(actor=scope, by=by, object_type="staff")
            qs = StaffMember.objects.visible_to(scope, Perm.PERSONAL_REVEAL).select_related(
                "department"
            )
            if by == "id_number":
                qs = qs.filter(id_index=id_index(value))
            else:
                qs = qs.filter(phone_index=phone_index(value))
    if grid_code or role:
        current = Assignment.objects.visible_to(actor, Perm.TEAMS_VIEW).filter(valid_to=None)
        if grid_code:
            current = current.filter(grid_code__startswith=grid_code)
        if role:
            current = current.filter(role=role)
        qs = qs.filter(pk__in=current.values("staff_id"))
    return sorted_by(qs, sort, STAFF_SORTS, "name")


def staff_assignments(*, actor: Any, staff: StaffMember) -> list[Assignment]:
    return list(
        Assignment.objects.visible_to(actor, Perm.TEAMS_VIEW)
        .filter(staff=staff)
        .select_related("department")
        .order_by("-valid_from")
    )


def leader_on(*, actor: Any, grid_code: str, day: dt.date) -> StaffMember | None:
    """Who led this grid on `day` (history kept by closing assignments, never overwriting)."""
    _require_team(actor, grid_code)
    assignment = (
        Assignment.objects.visible_to(actor, Perm.TEAMS_VIEW)
        .filter(grid_code=grid_code, role=TeamRole.LEADER, valid_from__lte=day)
        .filter(Q(valid_to=None) | Q(valid_to__gt=day))
        .select_related("staff")
        .first()
    )
    return assignment.staff if assignment else None


def team_history(*, actor: Any, grid_code: str) -> list[Assignment]:
    _require_team(actor, grid_code)
    return list(
        Assignment.objects.visible_to(actor, Perm.TEAMS_VIEW)
        .filter(grid_code=grid_code)
        .select_related("staff", "staff__department", "department")
        .order_by("-valid_from", "role")
    )


# -- coverage ----------------------------------------------------------------------------------


@dataclass
class CoverageProblem:
    kind: str
    message: str
    grid: str | None = None
    staff: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "grid": self.grid, "staff": self.staff, "message": self.message}


@dataclass
class Coverage:
    grids: int = 0
    teams: int = 0
    party_organisations: int = 0
    branches: int = 0
    groups: int = 0
    party_members: int = 0
    by_role: dict[str, int] = field(default_factory=dict)
    by_street: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_community: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[CoverageProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "grids": self.grids,
            "teams": self.teams,
            "workers": self.by_role,
            "party_organisations": self.party_organisations,
            "branches": self.branches,
            "groups": self.groups,
            "party_members": self.party_members,
            "by_street": self.by_street,
            "by_community": self.by_community,
            "problems": [p.as_dict() for p in self.problems],
        }


def coverage(*, actor: Any) -> Coverage:
    """Teams, leaders and party organisations of every grid whose team the actor sees, with
    what is missing; worker counts of the assignments the actor sees (a department grant: the
    specialists it sent, and no grid). NotFound without teams.view."""
    scope = require_any(actor, Perm.TEAMS_VIEW)
    grids = [
        (code, name)
        for code, name in Region.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(level=Level.GRID, valid_to=None)
        .order_by("code")
        .values_list("code", "name")
        if services.may_view_team(scope, code)
    ]
    names = dict(
        Region.objects.dangerously_unscoped()
        .filter(valid_to=None, level__in=[Level.STREET, Level.COMMUNITY])
        .values_list("code", "name")
    )
    teams = set(Team.objects.visible_to(scope, Perm.TEAMS_VIEW).values_list("grid_code", flat=True))
    current = list(
        Assignment.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(valid_to=None)
        .values_list("grid_code", "role", "staff_id", "department_id", "staff__name")
    )
    orgs = {o.grid_code: o for o in PartyOrganisation.objects.visible_to(scope, Perm.TEAMS_VIEW)}
    formal = Counter(
        PartyMember.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(formal=True)
        .values_list("grid_code", flat=True)
    )
    member_count = PartyMember.objects.visible_to(scope, Perm.TEAMS_VIEW).count()

    report = Coverage(grids=len(grids), teams=len(teams), party_members=member_count)
    report.party_organisations = len(orgs)
    report.branches = sum(1 for o in orgs.values() if o.kind == PartyOrgKind.BRANCH)
    report.groups = report.party_organisations - report.branches
    report.by_role = {r.value: 0 for r in ROLE_ORDER}
    leaders: dict[str, int] = {}
    grids_of: dict[int, set[str]] = defaultdict(set)
    person: dict[int, str] = {}
    totals: dict[str, dict[str, dict[str, Any]]] = {"street": {}, "community": {}}
    for code, _name in grids:
        for level, length in (("street", 9), ("community", 12)):
            bucket = totals[level].setdefault(
                code[:length],
                {"name": names.get(code[:length], ""), "grids": 0, "teams": 0}
                | {r.value: 0 for r in ROLE_ORDER},
            )
            bucket["grids"] += 1
            bucket["teams"] += code in teams
    for grid_code, role, staff_id, department_id, staff_name in current:
        report.by_role[role] += 1
        grids_of[staff_id].add(grid_code)
        person[staff_id] = staff_name
        if role == TeamRole.LEADER:
            leaders[grid_code] = staff_id
        if role == TeamRole.SPECIALIST and department_id is None:
            report.problems.append(
                CoverageProblem(
                    "specialist_without_department",
                    _("%(name)s is a specialist grid worker without a department.")
                    % {"name": staff_name},
                    grid_code,
                    staff_id,
                )
            )
        for level, length in (("street", 9), ("community", 12)):
            if grid_code[:length] in totals[level]:
                totals[level][grid_code[:length]][role] += 1
    minimum = settings.TEAMS_BRANCH_MIN_MEMBERS
    for code, name in grids:
        label = f"{name}（{code}）"
        if code not in teams:
            report.problems.append(
                CoverageProblem("no_team", _("%(grid)s has no grid team.") % {"grid": label}, code)
            )
        if code not in leaders:
            report.problems.append(
                CoverageProblem(
                    "no_leader", _("%(grid)s has no grid leader.") % {"grid": label}, code
                )
            )
        org = orgs.get(code)
        if org is None:
            report.problems.append(
                CoverageProblem(
                    "no_party_organisation",
                    _("%(grid)s has no party branch or party group.") % {"grid": label},
                    code,
                )
            )
            continue
        if code in leaders and org.secretary_id != leaders[code]:
            report.problems.append(
                CoverageProblem(
                    "leader_not_secretary",
                    _("The grid leader of %(grid)s does not lead its %(kind)s.")
                    % {"grid": label, "kind": org.get_kind_display()},
                    code,
                    leaders[code],
                )
            )
        if org.kind == PartyOrgKind.BRANCH and formal[code] < minimum:
            report.problems.append(
                CoverageProblem(
                    "branch_too_small",
                    _(
                        "The party branch of %(grid)s has %(n)d formal members; a branch needs "
                        "%(min)d (otherwise set up a party group)."
                    )
                    % {"grid": label, "n": formal[code], "min": minimum},
                    code,
                )
            )
    limit = settings.TEAMS_MAX_GRIDS_PER_PERSON
    shown = {code for code, _name in grids}
    for staff_id, codes in sorted(grids_of.items()):
        if len(codes) > limit:
            report.problems.append(
                CoverageProblem(
                    "over_capacity",
                    _("%(name)s serves %(n)d grids; the limit is %(limit)d.")
                    % {"name": person[staff_id], "n": len(codes), "limit": limit},
                    # Link to a team only where the actor sees it (not a department).
                    next((c for c in sorted(codes) if c in shown), None),
                    staff_id,
                )
            )
    report.by_street = totals["street"]
    report.by_community = totals["community"]
    return report


def team_users(*, actor: Any, grid_codes: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Per grid, the users (id, team role) serving in its team now, leader first: who a
    campaign's task for the grid is assigned to. Only grids the actor sees teams of."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    if not grid_codes:
        return out
    rows = (
        Assignment.objects.visible_to(actor, Perm.TEAMS_VIEW)
        .filter(grid_code__in=grid_codes, valid_to=None, staff__user__isnull=False)
        .values_list("grid_code", "staff__user_id", "role")
    )
    order = {r: i for i, r in enumerate(ROLE_ORDER)}
    for grid, user_id, role in sorted(rows, key=lambda r: (r[0], order.get(r[2], 9), r[1])):
        if all(uid != user_id for uid, _r in out[grid]):
            out[grid].append((user_id, role))
    return out


def grid_figures(*, actor: Any) -> dict[str, dict[str, int]]:
    """Per grid whose team the actor sees: whether it lacks a leader (1/0), how many of its
    workers serve more grids than the limit, and its workers (the dashboard's staffing map)."""
    scope = as_scope(actor)
    if not scope.has(Perm.TEAMS_VIEW):
        return {}
    report = coverage(actor=scope)
    limit = settings.TEAMS_MAX_GRIDS_PER_PERSON
    grids = set(
        Region.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(level=Level.GRID, valid_to=None)
        .values_list("code", flat=True)
    )
    out: dict[str, dict[str, int]] = {
        g: {"no_leader": 0, "over_capacity": 0, "workers": 0} for g in grids
    }
    for problem in report.problems:
        if problem.kind == "no_leader" and problem.grid in out:
            out[problem.grid]["no_leader"] = 1
    served: dict[int, set[str]] = defaultdict(set)
    for grid_code, staff_id in (
        Assignment.objects.visible_to(scope, Perm.TEAMS_VIEW)
        .filter(valid_to=None)
        .values_list("grid_code", "staff_id")
    ):
        served[staff_id].add(grid_code)
        if grid_code in out:
            out[grid_code]["workers"] += 1
    for codes in served.values():
        if len(codes) > limit:
            for code in codes & out.keys():
                out[code]["over_capacity"] += 1
    return out
