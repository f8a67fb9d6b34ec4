"""Writes to teams: people, assignments over time, party organisations and members.

Every function takes the acting scope and checks its own rule against the grant covering the
object — the grid's team, or the person — inside its own transaction, and writes its own audit
entry. The rules are the `may_*` functions below; the selectors answer a page's "may I" with the
same functions. History is never overwritten: a change of team closes the old assignment and
opens a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.crypto import blind_index
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import Department
from wangge.core.personal import normalise, normalise_phone, reveal
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope
from wangge.regions.models import Level, Region
from wangge.teams.models import (
    Assignment,
    PartyMember,
    PartyOrganisation,
    StaffMember,
    Team,
    TeamRole,
)
from wangge.teams.regrid import regrid as regrid  # re-homing teams in a restructure

ID_CONTEXT = "teams.staffmember.id_number"
PHONE_CONTEXT = "teams.phone"


def id_index(value: str) -> str:
    return blind_index(normalise(value), context=ID_CONTEXT) if value else ""


def phone_index(value: str) -> str:
    return blind_index(normalise_phone(value), context=PHONE_CONTEXT) if value else ""


# -- the rules ---------------------------------------------------------------------------------
# One function per rule, asked about the object it is about: the grid's team, or one person.
# The services below enforce them; the selectors hand the same answers to the pages
# (`selectors.team_abilities`), so a page never offers what the service would refuse.


def _team_at(grid_code: str) -> Team:
    """The grid's team as the scope sees it, whether or not the row exists yet (no query)."""
    return Team(grid_code=grid_code)


def may_view_team(actor: Any, grid_code: str) -> bool:
    """A grant holding teams.view covers the grid. Department grants see no team (nor its party
    organisation and members): they see the staff their department sent (security finding 6)."""
    return as_scope(actor).holds_for(Perm.TEAMS_VIEW, _team_at(grid_code))


def may_edit_team(actor: Any, grid_code: str) -> bool:
    return as_scope(actor).holds_for(Perm.TEAMS_EDIT, _team_at(grid_code))


def may_reveal_team(actor: Any, grid_code: str) -> bool:
    """Full phones of the grid's team (the team page's forms, the notice card). Every member
    serves in the grid, so a grant revealing over the grid covers each of them: the rule
    `staff_reveal` applies person by person."""
    return as_scope(actor).holds_for(Perm.PERSONAL_REVEAL, _team_at(grid_code))


def may_reveal_staff(actor: Any, staff: StaffMember) -> bool:
    """A grant holding personal.reveal covers one of the regions where the person is registered
    or serves — not merely a grant somewhere else (security finding 3)."""
    scope = as_scope(actor)
    department = staff.scope_department()
    return any(scope.holds(Perm.PERSONAL_REVEAL, code, department) for code in staff.scope_codes())


def team_edit_check(*, actor: Any, grid_code: str) -> None:
    """Refuse unless the actor may change this grid's team: NotFound where the team does not
    exist for them, PermissionDenied where they see it but may only read it."""
    if may_edit_team(actor, grid_code):
        return
    if may_view_team(actor, grid_code):
        raise PermissionDenied(_("Your role may not change this grid's team."))
    raise NotFound()


def _editable_staff(actor: Any) -> Any:
    """The people the actor may change: registered in, or serving now in, its teams.edit scope."""
    return StaffMember.objects.visible_to(actor, Perm.TEAMS_EDIT)


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


# -- people ------------------------------------------------------------------------------------


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


class NotRegistrableHere(ValidationFailed):
    """The ID number belongs to a person outside the actor's teams.edit scope (security finding
    4). The answer says no more than that — not who, not where — and carries no details; the
    person's id is kept for the audit entry only."""

    code = "id_number_not_here"
    default_message = gettext_lazy(
        "This ID number cannot be registered here; ask the district to transfer the person."
    )

    def __init__(self, *, grid_code: str, staff_id: int | None) -> None:
        super().__init__()
        self.grid_code = grid_code
        self.staff_id = staff_id


def staff_refusal_record(*, actor: Any, refused: NotRegistrableHere) -> None:
    """Audit a refused ID number. Written outside the refused work's transaction so that the
    rollback keeps it (the roster import calls this after its own transaction)."""
    audit_record(
        actor=actor,
        action="staff.assign",
        object_type="staff",
        object_id=refused.staff_id or "",
        outcome="denied",
        details={"grid": refused.grid_code, "reason": "id_number_outside_scope"},
    )


@dataclass(frozen=True)
class Assigned:
    assignment: Assignment
    created: bool  # False: the same current assignment was there already
    changed: list[str]  # the person's fields that changed (all of them for a new person)


def staff_assign(
    *,
    actor: Any,
    grid_code: str,
    data: StaffData,
    role: str,
    valid_from: dt.date,
    department: Department | None = None,
) -> Assigned:
    """Put a person, given by their details, into a grid's team: the one way in for the API, the
    team page and the roster import.

    Needs teams.edit over the grid. The person is looked up by ID number only among the people
    the actor may change, and updated there; with nobody there, a new person is registered in
    the grid's community. An ID number held by someone outside that scope is refused with
    NotRegistrableHere — nothing updated, nothing disclosed — and the refusal is audited.
    Otherwise as `assignment_start`.
    """
    try:
        return _staff_assign(
            actor=actor,
            grid_code=grid_code,
            data=data,
            role=role,
            valid_from=valid_from,
            department=department,
        )
    except NotRegistrableHere as refused:
        staff_refusal_record(actor=actor, refused=refused)
        raise


@transaction.atomic
def _staff_assign(
    *,
    actor: Any,
    grid_code: str,
    data: StaffData,
    role: str,
    valid_from: dt.date,
    department: Department | None,
) -> Assigned:
    team_edit_check(actor=actor, grid_code=grid_code)
    grid = _grid(grid_code)
    staff = None
    if data.id_number:
        staff = _editable_staff(actor).filter(id_index=id_index(data.id_number)).first()
    new = staff is None
    if staff is None:
        staff = _staff_create(actor, data, region_code=grid_code[:12], grid_code=grid_code)
        changed = list(STAFF_FIELDS)
    else:
        changed = _staff_update(actor, staff, data)
    assignment, created = _assignment_start(
        actor=actor,
        staff=staff,
        grid_code=grid_code,
        role=role,
        valid_from=valid_from,
        department=department,
        grid=grid,
        new_staff=new,
    )
    return Assigned(assignment, created, changed)


def _staff_create(actor: Any, data: StaffData, *, region_code: str, grid_code: str) -> StaffMember:
    index = id_index(data.id_number)
    try:
        with transaction.atomic():
            staff = StaffMember.objects.create(
                region_code=region_code,
                id_index=index,
                phone_index=phone_index(data.phone),
                **{f: getattr(data, f) for f in STAFF_FIELDS},
            )
    except IntegrityError:
        # The lookup in the actor's scope found nobody, so the number is someone else's.
        holder = (
            StaffMember.objects.dangerously_unscoped()
            .filter(id_index=index)
            .values_list("pk", flat=True)
            .first()
        )
        raise NotRegistrableHere(grid_code=grid_code, staff_id=holder) from None
    audit_record(
        actor=actor,
        action="staff.create",
        object_type="staff",
        object_id=staff.pk,
        # Field names only: the audit log must not become a copy of the personal data.
        details={"fields": list(STAFF_FIELDS)},
    )
    return staff


def _staff_update(actor: Any, staff: StaffMember, data: StaffData) -> list[str]:
    changed = [f for f in STAFF_FIELDS if getattr(staff, f) != getattr(data, f)]
    if not changed:
        return []
    for f in changed:
        setattr(staff, f, getattr(data, f))
    fields = [*changed, "updated_at"]
    if "id_number" in changed:
        staff.id_index = id_index(staff.id_number)
        fields.append("id_index")
    if "phone" in changed:
        staff.phone_index = phone_index(staff.phone)
        fields.append("phone_index")
    staff.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="staff.update",
        object_type="staff",
        object_id=staff.pk,
        details={"fields": changed},
    )
    return changed


REVEALABLE = ("phone", "id_number")


def staff_reveal(*, actor: Any, staff_id: int, field: str, reason: str) -> str:
    """One full phone or ID number of a person the actor sees, for this response only.

    NotFound for a person out of scope; PermissionDenied unless a grant holding personal.reveal
    covers the person (`may_reveal_staff`); the look is audited with its reason, a refusal too.
    Not one transaction on purpose: the audit entry of a refusal must outlive the refusal.
    """
    if field not in REVEALABLE:
        raise ValidationFailed(code="invalid_field")
    staff = access(
        StaffMember.objects.select_related("department"), actor, Perm.TEAMS_VIEW, pk=staff_id
    )
    reveal(
        actor=actor,
        object_type="staff",
        object_id=staff.pk,
        field=field,
        reason=reason,
        codes=staff.scope_codes(),
        department=staff.scope_department(),
    )
    return str(getattr(staff, field))


def team_phones_reveal(*, actor: Any, grid_code: str) -> None:
    """Allow the notice card with full phones (the 滨州 regulation has grid workers' phones
    posted publicly): a reveal like any other, checked over the grid (`may_reveal_team`) and
    audited with its purpose. NotFound where the team does not exist for the actor."""
    if not may_view_team(actor, grid_code):
        raise NotFound()
    reveal(
        actor=actor,
        object_type="team",
        object_id=grid_code,
        field="phone",
        reason=_("Printing the grid notice card for public posting"),
        codes=[grid_code],
        department=_team_at(grid_code).scope_department(),
    )


# -- teams and assignments -----------------------------------------------------------------------


@transaction.atomic
def team_ensure(*, actor: Any, grid_code: str) -> Team:
    """The grid's team, created on first use. Needs teams.edit over the grid."""
    team_edit_check(actor=actor, grid_code=grid_code)
    return _team_ensure(actor, _grid(grid_code))


def team_name(grid: Region) -> str:
    """The name a grid's team is created with."""
    return _("%(grid)s team") % {"grid": grid.name}


def _team_ensure(actor: Any, grid: Region) -> Team:
    team = Team.objects.dangerously_unscoped().filter(grid_code=grid.code).first()
    if team is None:
        team = Team.objects.create(grid_code=grid.code, name=team_name(grid))
        audit_record(actor=actor, action="team.create", object_type="team", object_id=grid.code)
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
    """Put a person already registered into a grid's team from `valid_from`. Returns
    (assignment, created).

    Needs teams.edit over the grid, and the person among those the actor may change (NotFound
    otherwise, as for a missing one: the same rule as `staff_assign`'s lookup). A new leader
    closes the current leader's assignment on the same day. The same current assignment again
    is a no-op. Raises ValidationFailed for a specialist without department, a person over the
    grid limit, or a start before the current leader's start.
    """
    team_edit_check(actor=actor, grid_code=grid_code)
    if not _editable_staff(actor).filter(pk=staff.pk).exists():
        raise NotFound()
    return _assignment_start(
        actor=actor,
        staff=staff,
        grid_code=grid_code,
        role=role,
        valid_from=valid_from,
        department=department,
    )


def _assignment_start(
    *,
    actor: Any,
    staff: StaffMember,
    grid_code: str,
    role: str,
    valid_from: dt.date,
    department: Department | None,
    grid: Region | None = None,
    new_staff: bool = False,
) -> tuple[Assignment, bool]:
    """`grid`: the grid's row when the caller has it already; `new_staff`: the person was
    registered in this transaction, so has no assignment yet (two queries fewer per row of a
    roster import)."""
    role = TeamRole(role)
    if role == TeamRole.SPECIALIST and department is None:
        raise ValidationFailed(
            _("A specialist grid worker must name the department that sends them."),
            code="department_required",
        )
    # The person's current assignments, in the model's order: the same one as this, if any,
    # and the other grids they serve.
    current = (
        []
        if new_staff
        else list(Assignment.objects.dangerously_unscoped().filter(staff=staff, valid_to=None))
    )
    existing = next((a for a in current if a.grid_code == grid_code and a.role == role), None)
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
    other_grids = {a.grid_code for a in current if a.grid_code != grid_code}
    limit = settings.TEAMS_MAX_GRIDS_PER_PERSON
    if len(other_grids) + 1 > limit:
        raise ValidationFailed(
            _("%(name)s already serves %(n)d grids; the limit is %(limit)d.")
            % {"name": staff.name, "n": len(other_grids), "limit": limit},
            code="too_many_grids",
        )
    team = _team_ensure(actor, grid if grid is not None else _grid(grid_code))
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
def assignment_end(*, actor: Any, assignment_id: int, valid_to: dt.date) -> Assignment:
    """End an assignment on `valid_to` (it stays in the history). NotFound for one the actor
    does not see; teams.edit over its grid needed (`team_edit_check`)."""
    assignment = access(
        Assignment.objects.select_related("staff", "department"),
        actor,
        Perm.TEAMS_VIEW,
        pk=assignment_id,
    )
    team_edit_check(actor=actor, grid_code=assignment.grid_code)
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
    """Create or update the grid's party organisation. Returns (organisation, changed).

    Needs teams.edit over the grid; the secretary must be a person the actor may change
    (NotFound otherwise, as for a missing one)."""
    team_edit_check(actor=actor, grid_code=grid_code)
    _grid(grid_code)
    if secretary is not None and not _editable_staff(actor).filter(pk=secretary.pk).exists():
        raise NotFound()
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
    with outcome "inserted", "updated" or "unchanged". Needs teams.edit over the grid."""
    team_edit_check(actor=actor, grid_code=grid_code)
    index = phone_index(data.phone)
    member = (
        PartyMember.objects.dangerously_unscoped()
        .filter(grid_code=grid_code, name=data.name, phone_index=index)
        .first()
    )
    org = PartyOrganisation.objects.dangerously_unscoped().filter(grid_code=grid_code).first()
    if member is None:
        member = PartyMember.objects.create(
            grid_code=grid_code,
            name=data.name,
            phone_index=index,
            organisation=org,
            **{f: getattr(data, f) for f in MEMBER_FIELDS},
        )
        outcome = "inserted"
        changed = list(MEMBER_FIELDS)
    else:
        changed = [f for f in MEMBER_FIELDS if getattr(member, f) != getattr(data, f)]
        moved = member.organisation_id != (org.pk if org else None)
        if not changed and not moved:
            return member, "unchanged"
        outcome = "updated"
        for f in changed:
            setattr(member, f, getattr(data, f))
        member.organisation = org
        member.save(update_fields=[*changed, "organisation"])
    audit_record(
        actor=actor,
        action=f"party_member.{'create' if outcome == 'inserted' else 'update'}",
        object_type="party_member",
        object_id=member.pk,
        details={"grid": grid_code, "fields": changed},
    )
    return member, outcome


STAFF_XLSX_MAX_ROWS = 50_000


def staff_export(*, actor: Any, q: str = "", role: str = "", sort: str = "") -> bytes:
    """The staff directory as its table shows it (`selectors.staff_list` for these filters,
    in its order), as an Excel workbook: phones and ID numbers masked as on the page, the
    birth year not shown. Audited; refused past STAFF_XLSX_MAX_ROWS with a message."""
    from wangge.core.personal import mask_id_number, mask_phone
    from wangge.core.tabular import write_xlsx
    from wangge.teams import selectors

    staff = selectors.staff_list(actor=actor, q=q, role=role, sort=sort)
    total = staff.count()
    if total > STAFF_XLSX_MAX_ROWS:
        raise ValidationFailed(
            _("%(n)d people are too many for one workbook (at most %(max)d): narrow the filters.")
            % {"n": total, "max": STAFF_XLSX_MAX_ROWS},
            code="too_many_rows",
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="teams.export.staff",
            object_type="staff",
            object_id="directory",
            details={"rows": total, "format": "xlsx"}
            | {k: v for k, v in {"q": q, "role": role, "sort": sort}.items() if v},
        )
    rows = (
        [
            s.name,
            s.get_gender_display(),
            mask_phone(s.phone) if s.phone else "",
            mask_id_number(s.id_number) if s.id_number else "",
            s.get_political_status_display(),
            s.employer,
            s.department.name if s.department_id and s.department else "",
        ]
        for s in staff.iterator(chunk_size=2000)
    )
    headers = [
        str(h)
        for h in (
            _("Name"),
            _("Gender"),
            _("Mobile phone"),
            _("ID number"),
            _("Political status"),
            _("Employer"),
            _("Department"),
        )
    ]
    return write_xlsx([(_("Staff directory"), headers, rows)])
