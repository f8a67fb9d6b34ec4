"""Roles and what each may do. A permission is granted over the scope of the grant that holds it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    STREET_OFFICER = "street_officer", _("Street officer")
    COMMUNITY_OFFICER = "community_officer", _("Community officer")
    GRID_LEADER = "grid_leader", _("Grid leader")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")
    AUDITOR = "auditor", _("Auditor")


class Perm(models.TextChoices):
    REGIONS_VIEW = "regions.view", _("View regions and grids")
    REGIONS_MANAGE = "regions.manage", _("Import and change boundaries")
    REGIONS_RESTRUCTURE = (
        "regions.restructure",
        _("Restructure grids (move, split, merge, recode) and re-home their records"),
    )
    AUDIT_VIEW = "audit.view", _("Browse the audit log")
    USERS_MANAGE = "users.manage", _("Manage users and grants")
    TEAMS_VIEW = "teams.view", _("View grid teams and party organisations")
    TEAMS_EDIT = "teams.edit", _("Edit grid teams and party organisations")
    PERSONAL_REVEAL = "personal.reveal", _("See full personal data (with a reason)")
    LEDGER_VIEW = "ledger.view", _("View the ledger (people, organisations, addresses)")
    LEDGER_EDIT = "ledger.edit", _("Edit and import the ledger")
    LEDGER_SENSITIVE = "ledger.sensitive", _("See special-group tags")
    LEDGER_OVERRIDE = "ledger.override", _("Accept a code that fails its check (with a reason)")
    LEDGER_REVIEW = "ledger.review", _("Review records referred to the district")
    THINGS_VIEW = "things.view", _("View components and facilities")
    EVENTS_VIEW = "events.view", _("View events")
    EVENTS_REPORT = "events.report", _("Report events and resolve small ones in the grid")
    EVENTS_COMMAND = "events.command", _("Accept, dispatch, assign, approve and close events")
    EVENTS_HANDLE = "events.handle", _("Handle events dispatched to a department")
    EVENTS_VERIFY = "events.verify", _("Verify events on site")
    EVENTS_CONFIGURE = "events.configure", _("Configure event categories and the calendar")
    CAMPAIGNS_VIEW = "campaigns.view", _("View campaigns and their progress")
    CAMPAIGNS_MANAGE = "campaigns.manage", _("Start campaigns and assign their tasks")
    CAMPAIGNS_COLLECT = "campaigns.collect", _("Collect and verify records in a campaign task")
    CAMPAIGNS_REVIEW = "campaigns.review", _("Review campaign tasks")
    DASHBOARD_VIEW = "dashboard.view", _("See the command centre's dashboard")
    LINKAGE_MANAGE = (
        "linkage.manage",
        _("Upload departments' lists and link them to the ledger"),
    )
    LINKAGE_REVIEW = "linkage.review", _("Review suspected matches and merge duplicates")
    # Public permissions: held by no role; a public scope (a resident's page, an Open311
    # client) is made with exactly the ones it needs (`Scope.public`).
    EVENTS_PUBLIC_REPORT = "events.public_report", _("File a public report")
    EVENTS_PUBLIC_READ = "events.public_read", _("Read the public fields of public reports")
    EVENTS_PUBLIC_TRACK = "events.public_track", _("Follow a report by its tracking code")
    REGIONS_PUBLIC_OUTLINE = "regions.public_outline", _("See grid names and outlines")


PUBLIC_PERMS = frozenset(
    {
        Perm.EVENTS_PUBLIC_REPORT,
        Perm.EVENTS_PUBLIC_READ,
        Perm.EVENTS_PUBLIC_TRACK,
        Perm.REGIONS_PUBLIC_OUTLINE,
    }
)


_FIELD_ROLES = {
    Role.DISTRICT_ADMIN,
    Role.STREET_OFFICER,
    Role.COMMUNITY_OFFICER,
    Role.GRID_LEADER,
    Role.GRID_WORKER,
    Role.DEPARTMENT_OFFICER,
}

_CENTRE_ROLES = {Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_OFFICER}


def _sensitive_roles() -> set[Role]:
    """Roles that may see special-group tags: WANGGE_SENSITIVE_ROLES (comma list), by default
    the district centre and community officers (who run the 特殊人群 work)."""
    from django.conf import settings

    names = getattr(settings, "LEDGER_SENSITIVE_ROLES", ["district_admin", "community_officer"])
    return {Role(name) for name in names}


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    role: frozenset(
        perm
        for perm, roles in {
            Perm.REGIONS_VIEW: _FIELD_ROLES | {Role.AUDITOR},
            Perm.REGIONS_MANAGE: {Role.DISTRICT_ADMIN},
            # Re-homes every module's records across the district: the district centre only.
            Perm.REGIONS_RESTRUCTURE: {Role.DISTRICT_ADMIN},
            # Separation of duties: the people whose actions are audited do not read the audit.
            Perm.AUDIT_VIEW: {Role.AUDITOR},
            Perm.USERS_MANAGE: {Role.DISTRICT_ADMIN},
            Perm.TEAMS_VIEW: _FIELD_ROLES,
            Perm.TEAMS_EDIT: {Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_OFFICER},
            Perm.PERSONAL_REVEAL: {
                Role.DISTRICT_ADMIN,
                Role.STREET_OFFICER,
                Role.COMMUNITY_OFFICER,
                Role.GRID_LEADER,
            },
            Perm.LEDGER_VIEW: _FIELD_ROLES - {Role.DEPARTMENT_OFFICER},
            Perm.LEDGER_EDIT: _FIELD_ROLES - {Role.DEPARTMENT_OFFICER},
            Perm.LEDGER_SENSITIVE: _sensitive_roles(),
            Perm.LEDGER_OVERRIDE: {
                Role.DISTRICT_ADMIN,
                Role.STREET_OFFICER,
                Role.COMMUNITY_OFFICER,
            },
            # Referrals may concern people anywhere in the district: the district centre only.
            Perm.LEDGER_REVIEW: {Role.DISTRICT_ADMIN},
            Perm.THINGS_VIEW: _FIELD_ROLES,
            Perm.EVENTS_VIEW: _FIELD_ROLES,
            Perm.EVENTS_REPORT: _FIELD_ROLES - {Role.DEPARTMENT_OFFICER},
            # The command centre of each tier (district, street, community).
            Perm.EVENTS_COMMAND: _CENTRE_ROLES,
            Perm.EVENTS_HANDLE: {Role.DEPARTMENT_OFFICER},
            Perm.EVENTS_VERIFY: {Role.GRID_LEADER, Role.GRID_WORKER, Role.COMMUNITY_OFFICER},
            Perm.EVENTS_CONFIGURE: {Role.DISTRICT_ADMIN},
            # Campaigns work on the ledger: the roles that keep it.
            Perm.CAMPAIGNS_VIEW: _FIELD_ROLES - {Role.DEPARTMENT_OFFICER},
            Perm.CAMPAIGNS_MANAGE: _CENTRE_ROLES,
            Perm.CAMPAIGNS_COLLECT: _FIELD_ROLES - {Role.DEPARTMENT_OFFICER},
            # The collector never reviews their own work: the service refuses anyone who took
            # part in the task, whatever their role.
            Perm.CAMPAIGNS_REVIEW: _CENTRE_ROLES,
            # Every officer who works events sees the numbers of their scope (grid roles on
            # their start page's small panel).
            Perm.DASHBOARD_VIEW: _FIELD_ROLES,
            # Departments' lists cover the whole district: the district centre uploads them.
            Perm.LINKAGE_MANAGE: {Role.DISTRICT_ADMIN},
            # A community reviews the suspected matches in its own grids.
            Perm.LINKAGE_REVIEW: _CENTRE_ROLES,
        }.items()
        if role in roles
    )
    for role in Role
}


def role_has(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(Role(role), frozenset())
