"""Re-homing grid teams when grids are restructured (`regions.restructure`).

Staff have no location: a current assignment goes to the only target, or where a mapping
(`staff,<id>,<grid>`) or the default grid says. It is closed at the effective date and opened
on the target's team (created when missing), so `leader_on(old grid, date)` still answers. A
target gets one leader: its own when it survives, else the first source's; other leaders
become full-time workers there (listed in the notes). Party organisations and members follow
their grid; a second organisation for one grid stays on its old code (listed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.regions.models import Region
from wangge.regions.restructure import GridPlan, RegridResult, Unplaced
from wangge.regions.services import restructure_scope
from wangge.teams.models import (
    Assignment,
    PartyMember,
    PartyOrganisation,
    StaffMember,
    TeamRole,
)


def regrid(*, actor: Any, plan: GridPlan, apply: bool = False) -> RegridResult:
    """Count (dry run) or move (apply) the teams of the plan's old grids. Needs
    `regions.restructure` over every grid of the plan (NotFound otherwise)."""
    scope = restructure_scope(actor=actor, codes=plan.codes())
    result = RegridResult(module="teams")
    order = {code: n for n, code in enumerate(plan.sources)}
    moves = _assignments(plan, order, result)
    orgs, org_target = _organisations(plan, order, result)
    members = _members(plan, org_target, result)
    staff = _staff(plan, result)
    if apply:
        _apply(scope, plan, moves, orgs, members, staff)
    return result


Move = tuple[Assignment, str, str, bool]  # assignment, target, role there, already there


def _assignments(plan: GridPlan, order: dict[str, int], result: RegridResult) -> list[Move]:
    current = sorted(
        Assignment.objects.dangerously_unscoped()
        .filter(grid_code__in=list(plan.sources), valid_to=None)
        .select_related("staff"),
        key=lambda a: (order[a.grid_code], a.role != TeamRole.LEADER, a.pk),
    )
    placed = {a.pk: plan.place(a.grid_code, "staff", a.staff_id) for a in current}
    leader_at: dict[str, int] = {}
    held: set[tuple[int, str, str]] = set()
    for a in current:  # what stays where it is comes first
        if placed[a.pk] == a.grid_code:
            held.add((a.staff_id, a.grid_code, a.role))
            if a.role == TeamRole.LEADER:
                leader_at[a.grid_code] = a.staff_id
    moves: list[Move] = []
    for a in current:
        target = placed[a.pk]
        if target is None:
            label = f"{a.staff.name}（{TeamRole(a.role).label}）"
            result.unplaced.append(Unplaced("staff", a.staff_id, label, a.grid_code))
            continue
        if target == a.grid_code:
            continue
        role = a.role
        if role == TeamRole.LEADER:
            if leader_at.get(target, a.staff_id) != a.staff_id:
                role = TeamRole.FULL_TIME
                result.notes.append(
                    _(
                        "%(name)s led %(old)s; %(new)s has a leader, so they join it as a "
                        "full-time grid worker."
                    )
                    % {"name": a.staff.name, "old": a.grid_code, "new": target}
                )
            else:
                leader_at[target] = a.staff_id
        key = (a.staff_id, target, role)
        moves.append((a, target, role, key in held))
        held.add(key)
        result.count("assignment", target)
    return moves


def _organisations(
    plan: GridPlan, order: dict[str, int], result: RegridResult
) -> tuple[list[tuple[PartyOrganisation, str]], dict[int, str]]:
    orgs = sorted(
        PartyOrganisation.objects.dangerously_unscoped().filter(grid_code__in=list(plan.sources)),
        key=lambda o: order[o.grid_code],
    )
    targets = {code for ts in plan.sources.values() for t in ts for code in [t.code]}
    taken = set(
        PartyOrganisation.objects.dangerously_unscoped()
        .filter(grid_code__in=targets - set(plan.sources))
        .values_list("grid_code", flat=True)
    )
    placed = {o.pk: plan.place(o.grid_code, "party_org", o.pk) for o in orgs}
    taken |= {o.grid_code for o in orgs if placed[o.pk] == o.grid_code}
    moves: list[tuple[PartyOrganisation, str]] = []
    org_target: dict[int, str] = {}
    for org in orgs:
        target = placed[org.pk]
        if target is None:
            result.unplaced.append(Unplaced("party_org", org.pk, org.name, org.grid_code))
        elif target == org.grid_code:
            org_target[org.pk] = target
        elif target in taken:
            result.notes.append(
                _("%(name)s stays on %(old)s: %(new)s has a party organisation already.")
                % {"name": org.name, "old": org.grid_code, "new": target}
            )
        else:
            taken.add(target)
            org_target[org.pk] = target
            moves.append((org, target))
            result.count("party_org", target)
    return moves, org_target


def _members(
    plan: GridPlan, org_target: dict[int, str], result: RegridResult
) -> list[tuple[PartyMember, str]]:
    members = list(
        PartyMember.objects.dangerously_unscoped()
        .filter(grid_code__in=list(plan.sources))
        .order_by("pk")
    )
    seen = set(
        PartyMember.objects.dangerously_unscoped()
        .filter(grid_code__in={t.code for ts in plan.sources.values() for t in ts})
        .values_list("grid_code", "name", "phone_index")
    )
    moves = []
    for m in members:
        target = plan.mapping.get(("party_member", str(m.pk)))
        if target is None and len(plan.targets_of(m.grid_code)) > 1 and m.organisation_id:
            target = org_target.get(m.organisation_id)
        target = target or plan.place(m.grid_code, "party_member", m.pk)
        if target is None:
            result.unplaced.append(Unplaced("party_member", m.pk, m.name, m.grid_code))
        elif target != m.grid_code:
            key = (target, m.name, m.phone_index)
            if key in seen:
                result.notes.append(
                    _(
                        "Party member %(name)s is registered in %(new)s already; the entry on "
                        "%(old)s stays."
                    )
                    % {"name": m.name, "new": target, "old": m.grid_code}
                )
                continue
            seen.add(key)
            moves.append((m, target))
            result.count("party_member", target)
    return moves


def _staff(plan: GridPlan, result: RegridResult) -> list[tuple[StaffMember, str]]:
    """Staff registered on an old grid itself (most register in a community) follow it."""
    moves = []
    for staff in StaffMember.objects.dangerously_unscoped().filter(
        region_code__in=list(plan.sources)
    ):
        target = plan.place(staff.region_code, "staff", staff.pk)
        if target is None:
            result.unplaced.append(Unplaced("staff", staff.pk, staff.name, staff.region_code))
        elif target != staff.region_code:
            moves.append((staff, target))
            result.count("staff", target)
    return moves


@transaction.atomic
def _apply(
    scope: Any,
    plan: GridPlan,
    moves: list[Move],
    orgs: list[tuple[PartyOrganisation, str]],
    members: list[tuple[PartyMember, str]],
    staff: list[tuple[StaffMember, str]],
) -> None:
    from wangge.teams.services import _close, _team_ensure

    day = timezone.localdate(plan.effective)
    grids = {
        r.code: r
        for r in Region.objects.dangerously_unscoped().filter(
            code__in={target for _a, target, _r, _d in moves}, valid_to=None
        )
    }
    opened = []
    # Close (or relabel) everything first: the one-leader and one-current constraints then
    # hold at every step.
    for a, target, role, duplicate in moves:
        if a.valid_from >= day:
            # Started on or after the effective day: no history on the old grid to keep.
            if duplicate:
                _close(scope, a, a.valid_from + dt.timedelta(days=1), reason="restructure")
            else:
                a.grid_code, a.team, a.role = target, _team_ensure(scope, grids[target]), role
                a.save(update_fields=["grid_code", "team", "role"])
                opened.append(a.pk)
            continue
        _close(scope, a, day, reason="restructure")
    for a, target, role, duplicate in moves:
        if a.valid_from >= day or duplicate:
            continue
        new = Assignment.objects.create(
            team=_team_ensure(scope, grids[target]),
            grid_code=target,
            staff=a.staff,
            role=role,
            department=a.department,
            valid_from=day,
        )
        opened.append(new.pk)
    for org, target in orgs:
        org.grid_code = target
        org.save(update_fields=["grid_code"])
    target_orgs = dict(
        PartyOrganisation.objects.dangerously_unscoped()
        .filter(grid_code__in={t for _m, t in members})
        .values_list("grid_code", "pk")
    )
    for member, target in members:
        member.grid_code = target
        fields = ["grid_code"]
        if target in target_orgs and member.organisation_id != target_orgs[target]:
            member.organisation_id = target_orgs[target]
            fields.append("organisation")
        member.save(update_fields=fields)
    for person, target in staff:
        person.region_code = target
        person.save(update_fields=["region_code"])
    audit_record(
        actor=scope,
        action="teams.regrid",
        object_type="restructure",
        object_id=plan.batch,
        details={
            "operation": plan.operation,
            "assignments_closed": sorted(a.pk for a, *_rest in moves),
            "assignments_opened": sorted(opened),
            "party_organisations": {str(o.pk): t for o, t in orgs},
            "party_members": {str(m.pk): t for m, t in members},
            "staff": {str(s.pk): t for s, t in staff},
        },
    )
