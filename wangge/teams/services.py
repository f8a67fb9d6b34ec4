"""Writes to teams: people, assignments over time, party organisations and members.

Every function takes the acting scope, refuses grids outside its `teams.edit` scope as
NotFound, writes an audit entry in the same transaction, and never overwrites history: a change
of team closes the old assignment and opens a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.crypto import blind_index
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import Department
from wangge.core.personal import normalise, normalise_phone
from wangge.core.roles import Perm
from wangge.core.scope import as_scope
from wangge.regions.models import Level, Region
from wangge.teams.models import (
    Assignment,
    PartyMember,
    PartyOrganisation,
    StaffMember,
    Team,
    TeamRole,
)

ID_CONTEXT = "teams.staffmember.id_number"
PHONE_CONTEXT = "teams.phone"


def id_index(value: str) -> str:
    return blind_index(normalise(value), context=ID_CONTEXT) if value else ""


def phone_index(value: str) -> str:
    return blind_index(normalise_phone(value), context=PHONE_CONTEXT) if value else ""


def _require_edit(actor: Any, grid_code: str) -> None:
    if not as_scope(actor).covers(grid_code, Perm.TEAMS_EDIT):
        raise NotFound()


def _grid(grid_code: str) -> Region:
    grid = (
        Region.objects.dangerously_unscoped()
        .filter(code=grid_code, level=Level.GRID, valid_to=None)
        .first()
    )
    if grid is None:
        raise ValidationFailed(
            _("Grid %(code)s does not exist.") % {"code": grid_code}, code="unknown_grid"
        )
    return grid


@dataclass
class StaffData:
    name: str
    gender: str = ""
    phone: str = ""
    id_number: str = ""
    political_status: str = ""
    employer: str = ""
    department: Department | None = None


STAFF_FIELDS = (
    "name",
    "gender",
    "phone",
    "id_number",
    "political_status",
    "employer",
    "department",
)


def staff_find(*, id_number: str) -> StaffMember | None:
    """System lookup by ID number through the blind index (no scope: for importers)."""
    if not id_number:
        return None
    return StaffMember.objects.dangerously_unscoped().filter(id_index=id_index(id_number)).first()


@transaction.atomic
def staff_save(
    *, actor: Any, data: StaffData, region_code: str, staff: StaffMember | None = None
) -> tuple[StaffMember, list[str]]:
    """Create a person, or update `staff`. Returns the person and the names of changed fields."""
    if staff is None:
        _require_edit(actor, region_code)
        staff = StaffMember(region_code=region_code)
        changed = list(STAFF_FIELDS)
    else:
        changed = [f for f in STAFF_FIELDS if getattr(staff, f) != getattr(data, f)]
        if not changed:
            return staff, []
    for f in STAFF_FIELDS:
        setattr(staff, f, getattr(data, f))
    staff.id_index = id_index(staff.id_number)
    staff.phone_index = phone_index(staff.phone)
    creating = staff.pk is None
    try:
        staff.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Another person with this ID number is already registered."),
            code="duplicate_id_number",
        ) from None
    audit_record(
        actor=actor,
        action="staff.create" if creating else "staff.update",
        object_type="staff",
        object_id=staff.pk,
        # Field names only: the audit log must not become a copy of the personal data.
        details={"fields": changed},
    )
    return staff, changed


def team_ensure(*, actor: Any, grid_code: str) -> Team:
    grid = _grid(grid_code)
    team = Team.objects.dangerously_unscoped().filter(grid_code=grid_code).first()
    if team is None:
        team = Team.objects.create(
            grid_code=grid_code, name=_("%(grid)s team") % {"grid": grid.name}
        )
        audit_record(actor=actor, action="team.create", object_type="team", object_id=grid_code)
    return team


def _current(grid_code: str) -> Any:
    return Assignment.objects.dangerously_unscoped().filter(grid_code=grid_code, valid_to=None)


@transaction.atomic
def assignment_start(
    *,
    actor: Any,
    staff: StaffMember,
    grid_code: str,
    role: str,
    valid_from: dt.date,
    department: Department | None = None,
) -> tuple[Assignment, bool]:
    """Put a person into a grid's team from `valid_from`. Returns (assignment, created).

    A new leader closes the current leader's assignment on the same day. The same current
    assignment again is a no-op. Raises ValidationFailed for a specialist without department,
    a person over the grid limit, or a start before the current leader's start.
    """
    _require_edit(actor, grid_code)
    role = TeamRole(role)
    if role == TeamRole.SPECIALIST and department is None:
        raise ValidationFailed(
            _("A specialist grid worker must name the department that sends them."),
            code="department_required",
        )
    existing = _current(grid_code).filter(staff=staff, role=role).first()
    if existing is not None:
        if existing.department_id != (department.pk if department else None):
            existing.department = department
            existing.save(update_fields=["department"])
            audit_record(
                actor=actor,
                action="assignment.update",
                object_type="assignment",
                object_id=existing.pk,
                details={"department": department.code if department else None},
            )
        return existing, False
    other_grids = set(
        Assignment.objects.dangerously_unscoped()
        .filter(staff=staff, valid_to=None)
        .exclude(grid_code=grid_code)
        .values_list("grid_code", flat=True)
    )
    limit = settings.TEAMS_MAX_GRIDS_PER_PERSON
    if len(other_grids) + 1 > limit:
        raise ValidationFailed(
            _("%(name)s already serves %(n)d grids; the limit is %(limit)d.")
            % {"name": staff.name, "n": len(other_grids), "limit": limit},
            code="too_many_grids",
        )
    team = team_ensure(actor=actor, grid_code=grid_code)
    if role == TeamRole.LEADER:
        leader = _current(grid_code).filter(role=TeamRole.LEADER).select_for_update().first()
        if leader is not None:
            if valid_from <= leader.valid_from:
                raise ValidationFailed(
                    _("The new leader must start after the current leader started (%(d)s).")
                    % {"d": leader.valid_from.isoformat()},
                    code="start_before_current",
                )
            _close(actor, leader, valid_from, reason="leader_changed")
    assignment = Assignment.objects.create(
        team=team,
        grid_code=grid_code,
        staff=staff,
        role=role,
        department=department,
        valid_from=valid_from,
    )
    audit_record(
        actor=actor,
        action="assignment.start",
        object_type="assignment",
        object_id=assignment.pk,
        details={
            "grid": grid_code,
            "role": str(role),
            "staff": staff.pk,
            "from": valid_from.isoformat(),
            "department": department.code if department else None,
        },
    )
    return assignment, True


def _close(actor: Any, assignment: Assignment, valid_to: dt.date, *, reason: str) -> None:
    if valid_to <= assignment.valid_from:
        raise ValidationFailed(
            _("An assignment must end after it started (%(d)s).")
            % {"d": assignment.valid_from.isoformat()},
            code="end_before_start",
        )
    assignment.valid_to = valid_to
    assignment.save(update_fields=["valid_to"])
    audit_record(
        actor=actor,
        action="assignment.end",
        object_type="assignment",
        object_id=assignment.pk,
        details={"grid": assignment.grid_code, "until": valid_to.isoformat(), "reason": reason},
    )


@transaction.atomic
def assignment_end(*, actor: Any, assignment: Assignment, valid_to: dt.date) -> Assignment:
    _require_edit(actor, assignment.grid_code)
    if assignment.valid_to is not None:
        raise ValidationFailed(_("This assignment has already ended."), code="already_ended")
    _close(actor, assignment, valid_to, reason="ended")
    return assignment


@transaction.atomic
def party_org_save(
    *,
    actor: Any,
    grid_code: str,
    kind: str,
    name: str,
    secretary: StaffMember | None,
    parent_name: str = "",
) -> tuple[PartyOrganisation, bool]:
    """Create or update the grid's party organisation. Returns (organisation, changed)."""
    _require_edit(actor, grid_code)
    _grid(grid_code)
    org = PartyOrganisation.objects.dangerously_unscoped().filter(grid_code=grid_code).first()
    values = {"kind": kind, "name": name, "secretary": secretary, "parent_name": parent_name}
    if org is None:
        org = PartyOrganisation.objects.create(grid_code=grid_code, **values)
        changed = list(values)
    else:
        changed = [k for k, v in values.items() if getattr(org, k) != v]
        if not changed:
            return org, False
        for k, v in values.items():
            setattr(org, k, v)
        org.save(update_fields=changed)
    audit_record(
        actor=actor,
        action="party_org.save",
        object_type="party_org",
        object_id=grid_code,
        details={"fields": changed},
    )
    return org, True


@dataclass
class PartyMemberData:
    name: str
    category: str
    registered_on: dt.date
    gender: str = ""
    phone: str = ""
    home_organisation: str = ""
    formal: bool = True


MEMBER_FIELDS = ("gender", "phone", "category", "home_organisation", "formal", "registered_on")


@transaction.atomic
def party_member_save(
    *, actor: Any, grid_code: str, data: PartyMemberData
) -> tuple[PartyMember, str]:
    """Register a member into a grid, keyed by grid, name and phone. Returns (member, outcome)
    with outcome "inserted", "updated" or "unchanged"."""
    _require_edit(actor, grid_code)
    index = phone_index(data.phone)
    member = (
        PartyMember.objects.dangerously_unscoped()
        .filter(grid_code=grid_code, name=data.name, phone_index=index)
        .first()
    )
    org = PartyOrganisation.objects.dangerously_unscoped().filter(grid_code=grid_code).first()
    if member is None:
        member = PartyMember(grid_code=grid_code, name=data.name, phone_index=index)
        outcome = "inserted"
        changed = list(MEMBER_FIELDS)
    else:
        changed = [f for f in MEMBER_FIELDS if getattr(member, f) != getattr(data, f)]
        if not changed and member.organisation_id == (org.pk if org else None):
            return member, "unchanged"
        outcome = "updated"
    for f in MEMBER_FIELDS:
        setattr(member, f, getattr(data, f))
    member.organisation = org
    member.save()
    audit_record(
        actor=actor,
        action=f"party_member.{'create' if outcome == 'inserted' else 'update'}",
        object_type="party_member",
        object_id=member.pk,
        details={"grid": grid_code, "fields": changed},
    )
    return member, outcome
