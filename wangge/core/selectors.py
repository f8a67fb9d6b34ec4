"""Reads of core data: the audit log (auditors only) and the acting user's grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.models import ApiToken, AuditEntry, Department, User
from wangge.core.roles import Perm, Role
from wangge.core.scope import as_scope, require_any

# The audit log's sort keys (a whitelist; newest first by default, the chain's own order).
AUDIT_SORTS: dict[str, tuple[str, ...]] = {
    "seq": ("seq",),
    "at": ("at",),
    "user": ("actor_name",),
    "action": ("action",),
    "outcome": ("outcome",),
}


def audit_list(
    *,
    actor: Any,
    action: str = "",
    actor_name: str = "",
    object_type: str = "",
    object_id: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "",
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first (or by one of AUDIT_SORTS, then the id). Only auditors; to
    anyone else the log does not exist."""
    if not as_scope(actor).has(Perm.AUDIT_VIEW):
        raise NotFound()
    qs = AuditEntry.objects.all()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    from wangge.core.tables import sorted_by

    return sorted_by(qs, sort, AUDIT_SORTS, "-seq")


def audit_filter_choices(*, actor: Any) -> dict[str, list[str]]:
    """The actions and the users found in the log, for the audit page's dropdowns."""
    if not as_scope(actor).has(Perm.AUDIT_VIEW):
        raise NotFound()
    entries = AuditEntry.objects.order_by()
    return {
        "actions": sorted(entries.values_list("action", flat=True).distinct()),
        "users": sorted(entries.values_list("actor_name", flat=True).distinct()),
    }


def departments() -> list[Department]:
    """Every department (reference data, the same for everyone inside the system)."""
    return list(Department.objects.order_by("code"))


def department_names() -> dict[str, str]:
    return dict(Department.objects.values_list("code", "name"))


def department_by_code(code: str | None) -> Department | None:
    """The department with this code; None for no code; ValidationFailed for an unknown one."""
    from django.utils.translation import gettext as _

    if not code:
        return None
    found = Department.objects.filter(code=code).first()
    if found is None:
        raise ValidationFailed(
            _("Unknown department: %(code)s") % {"code": code},
            code="unknown_department",
            details={"department": code},
        )
    return found


def user_by_username(*, actor: Any, username: str) -> User:
    """A user account by name, for administrators (and the CLI); NotFound otherwise."""
    require_any(actor, Perm.USERS_MANAGE)
    found = User.objects.filter(username=username).first()
    if found is None:
        raise NotFound()
    return found


def user_list(*, actor: Any) -> list[User]:
    require_any(actor, Perm.USERS_MANAGE)
    return list(User.objects.prefetch_related("grants__department").order_by("username"))


def token_list(*, actor: Any, username: str = "") -> list[ApiToken]:
    """API tokens (of one user, or all), oldest first, for administrators (and the CLI)."""
    require_any(actor, Perm.USERS_MANAGE)
    qs = ApiToken.objects.select_related("user").order_by("created_at")
    if username:
        qs = qs.filter(user__username=username)
    return list(qs)


# Who works in the field and gets the phone shell's tab bar (docs/ui.md); officers get the menu.
FIELD_SHELL_ROLES = frozenset({Role.GRID_LEADER, Role.GRID_WORKER})


def abilities(*, actor: Any) -> dict[str, bool]:
    """What the header may offer this actor: whether each module exists for them."""
    scope = as_scope(actor)
    return {
        "can_view_audit": scope.has(Perm.AUDIT_VIEW),
        "can_view_regions": scope.has(Perm.REGIONS_VIEW),
        "can_view_teams": scope.has(Perm.TEAMS_VIEW),
        "can_view_ledger": scope.has(Perm.LEDGER_VIEW) or scope.has(Perm.THINGS_VIEW),
        "can_view_events": scope.has(Perm.EVENTS_VIEW),
        "can_view_campaigns": scope.has(Perm.CAMPAIGNS_VIEW),
        "can_view_dashboard": scope.has(Perm.DASHBOARD_VIEW) and scope.has(Perm.EVENTS_VIEW),
        "can_restructure": scope.has(Perm.REGIONS_RESTRUCTURE),
        "can_link": scope.has(Perm.LINKAGE_MANAGE) or scope.has(Perm.LINKAGE_REVIEW),
        # The phone's bottom tab bar (待办 / 上报 / 任务 / 我的): for the grid's own roles.
        "field_shell": any(g.role in FIELD_SHELL_ROLES for g in scope.grants),
        "can_report": scope.has(Perm.EVENTS_REPORT),
        "can_collect": scope.has(Perm.CAMPAIGNS_COLLECT),
    }


def my_grants(*, actor: Any) -> list[dict[str, Any]]:
    """The actor's own grants, labelled (the start page)."""
    from wangge.core.roles import Role

    return [
        {
            "role_label": Role(g.role).label,
            "region_code": g.region_code,
            "department": g.department,
        }
        for g in as_scope(actor).grants
    ]


# The lists whose filters a user may save, and the permission that shows each list.
SAVED_FILTER_LISTS: dict[str, Perm] = {
    "events.inbox": Perm.EVENTS_VIEW,
    "ledger.people": Perm.LEDGER_VIEW,
}


def saved_filters(*, actor: Any, list_name: str) -> list[Any]:
    """The actor's own saved filters of one list (nobody sees another's). NotFound for a list
    the actor cannot see, or no such list."""
    from wangge.core.models import SavedFilter

    perm = SAVED_FILTER_LISTS.get(list_name)
    if perm is None:
        raise NotFound()
    scope = require_any(actor, perm)
    return list(SavedFilter.objects.visible_to(scope, perm).filter(list_name=list_name))
