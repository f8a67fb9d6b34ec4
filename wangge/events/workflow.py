"""The event workflow: one table of what is allowed, one function that applies it.

`transition()` is the only code that changes an event's status. It checks the table
(`RULES`), the actor's scope and the action's own rules, applies the change with a conditional
UPDATE on `version` (of two people acting at once exactly one wins), writes the log line and an
audit entry, and notifies — all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import Department
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope
from wangge.events import notify
from wangge.events.calendar import Calendar
from wangge.events.models import (
    OPEN_STATUSES,
    CloseKind,
    Event,
    EventAction,
    LimitUnit,
    Status,
    Tier,
)

S = Status
_OPEN = tuple(OPEN_STATUSES)


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    perm: Perm | None  # None: the system only (the deadline scan)
    label: Any
    reason: bool = False  # a reason is required
    params: tuple[str, ...] = field(default=())


RULES: dict[str, Rule] = {
    "accept": Rule((S.PENDING,), Perm.EVENTS_COMMAND, gettext_lazy("Accept")),
    "reject": Rule((S.PENDING,), Perm.EVENTS_COMMAND, gettext_lazy("Reject"), reason=True),
    "self_resolve": Rule((S.FILED,), Perm.EVENTS_REPORT, gettext_lazy("Resolve in the grid")),
    "dispatch": Rule(
        (S.FILED,), Perm.EVENTS_COMMAND, gettext_lazy("Dispatch"), params=("department",)
    ),
    "return": Rule(
        (S.DISPATCHED, S.HANDLING), Perm.EVENTS_HANDLE, gettext_lazy("Return"), reason=True
    ),
    "assign": Rule(
        (S.RETURNED,), Perm.EVENTS_COMMAND, gettext_lazy("Assign"), params=("department",)
    ),
    "handle": Rule((S.DISPATCHED,), Perm.EVENTS_HANDLE, gettext_lazy("Start handling")),
    "report": Rule((S.DISPATCHED, S.HANDLING), Perm.EVENTS_HANDLE, gettext_lazy("Report back")),
    "request_extension": Rule(
        (S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_HANDLE,
        gettext_lazy("Ask for more time"),
        reason=True,
        params=("amount", "unit"),
    ),
    "extend": Rule(
        (S.FILED, S.DISPATCHED, S.HANDLING),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Extend"),
        reason=True,
        params=("amount", "unit"),
    ),
    "park": Rule(
        (S.FILED, S.DISPATCHED, S.HANDLING, S.RETURNED),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Park"),
        reason=True,
    ),
    "unpark": Rule((S.PARKED,), Perm.EVENTS_COMMAND, gettext_lazy("Resume")),
    "verify": Rule((S.VERIFYING,), Perm.EVENTS_VERIFY, gettext_lazy("Verify"), params=("passed",)),
    "close": Rule((S.VERIFIED,), Perm.EVENTS_COMMAND, gettext_lazy("Close")),
    "close_special": Rule(
        _OPEN, Perm.EVENTS_COMMAND, gettext_lazy("Close as special"), reason=True, params=("kind",)
    ),
    "supervise": Rule(_OPEN, Perm.EVENTS_COMMAND, gettext_lazy("Supervise"), reason=True),
    "callback": Rule(
        (S.CLOSED,),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Satisfaction call-back"),
        params=("satisfaction",),
    ),
    "merge": Rule(
        (S.PENDING, S.FILED),
        Perm.EVENTS_COMMAND,
        gettext_lazy("Merge as duplicate"),
        params=("into",),
    ),
    "escalate": Rule(_OPEN, None, gettext_lazy("Escalate")),
}

SATISFACTION = {
    1: gettext_lazy("Satisfied"),
    2: gettext_lazy("Fairly satisfied"),
    3: gettext_lazy("Not satisfied"),
}


class TransitionError(ValidationFailed):
    code = "illegal_transition"


def allowed_actions(actor: Any, event: Event) -> list[str]:
    """The actions this actor may take on this event now (what the page offers)."""
    scope = as_scope(actor)
    result = []
    for name, rule in RULES.items():
        if rule.perm is None or event.status not in rule.sources:
            continue
        if not _holds(scope, rule.perm, event):
            continue
        if _refusal(scope, event, name) is None:
            result.append(name)
    return result


def _holds(scope: Scope, perm: Perm, event: Event) -> bool:
    """The actor holds `perm` through a grant covering the event (and its department, if the
    grant is narrowed to one)."""
    if scope.is_system:
        return True
    for grant in scope.grants_for(perm):
        if not event.grid_code.startswith(grant.region_code):
            continue
        if grant.department and grant.department != event.department_code:
            continue
        return True
    return False


def _refusal(scope: Scope, event: Event, action: str) -> str | None:
    """Per-action rules beyond the table; a message when the action is not allowed."""
    if action == "self_resolve" and not event.category.self_resolve:
        return _("This category cannot be resolved in the grid; dispatch it.")
    if action == "return" and event.no_return:
        return _("This event was assigned after a return; it cannot be returned again.")
    if action == "verify" and scope.user_id is not None and scope.user_id == event.handler_id:
        return _("The person who handled an event cannot verify it.")
    if (
        action == "extend"
        and event.status == S.FILED
        and not event.self_resolved
        and not event.category.self_resolve
    ):
        return _("Only events with a handling deadline can be extended.")
    return None


def transition(
    actor: Any,
    event: Event | int,
    action: str,
    *,
    reason: str = "",
    now: dt.datetime | None = None,
    expected_version: int | None = None,
    **params: Any,
) -> Event:
    """Apply `action` to the event as `actor`. Raises NotFound (not visible), PermissionDenied
    (visible, but not this actor's to do), TransitionError (not from this status, or a rule
    says no), ValidationFailed (missing reason/parameter) or Conflict (someone acted first)."""
    scope = as_scope(actor)
    now = now or timezone.now()
    rule = RULES.get(action)
    if rule is None:
        raise TransitionError(_("Unknown action: %(action)s") % {"action": action})
    event_id = event.pk if isinstance(event, Event) else int(event)
    with transaction.atomic():
        current = _load(scope, event_id)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(_("Someone else acted on this event first. Reload and try again."))
        if rule.perm is None:
            if not scope.is_system:
                raise PermissionDenied()
        elif not _holds(scope, rule.perm, current):
            raise PermissionDenied(_("This action is not yours to take on this event."))
        if current.status not in rule.sources:
            raise TransitionError(
                _("Cannot %(action)s an event that is %(status)s.")
                % {"action": str(rule.label), "status": Status(current.status).label},
                details={"status": current.status, "action": action},
            )
        refusal = _refusal(scope, current, action)
        if refusal:
            raise TransitionError(refusal, details={"status": current.status, "action": action})
        reason = (reason or "").strip()
        if rule.reason and not reason:
            raise ValidationFailed(_("Please give a reason."), code="reason_required")
        changes, details, notices = _apply(scope, current, action, reason, now, params)
        from_status = current.status
        changes["version"] = F("version") + 1
        changes["updated_at"] = now
        won = (
            Event.objects.dangerously_unscoped()
            .filter(pk=current.pk, version=current.version)
            .update(**changes)
        )
        if not won:
            raise Conflict(_("Someone else acted on this event first. Reload and try again."))
        current.refresh_from_db()
        EventAction.objects.create(
            event=current,
            at=now,
            actor_id=scope.user_id,
            actor_name=scope.username,
            action=action,
            from_status=from_status,
            to_status=current.status,
            reason=reason,
            details=details,
        )
        audit_record(
            actor=scope,
            action=f"event.{action}",
            object_type="event",
            object_id=current.pk,
            details={"from": from_status, "to": current.status, "reason_given": bool(reason)}
            | {k: v for k, v in details.items() if k in _AUDITED},
        )
        for users, kind, message in notices:
            notify.notify(users, event=current, kind=kind, message=message, now=now)
    return current


_AUDITED = {"department", "kind", "passed", "into", "tier", "amount", "unit"}


def _load(scope: Scope, event_id: int) -> Event:
    base = Event.objects.select_related("category")
    qs = (
        base.dangerously_unscoped() if scope.is_system else base.visible_to(scope, Perm.EVENTS_VIEW)
    )
    try:
        return qs.get(pk=event_id)
    except Event.DoesNotExist:
        raise NotFound() from None


Notice = tuple[list[Any], str, str]


def _department(params: dict[str, Any], event: Event) -> str:
    department = event.category.department
    code = params.get("department") or (department.code if department else "")
    if not code or not Department.objects.filter(code=code).exists():
        raise ValidationFailed(
            _("Choose the department to dispatch to."), code="department_required"
        )
    return str(code)


def _apply(
    scope: Scope, event: Event, action: str, reason: str, now: dt.datetime, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], list[Notice]]:
    cal = Calendar()
    cat = event.category
    changes: dict[str, Any] = {}
    details: dict[str, Any] = {}
    notices: list[Notice] = []
    title = f"{event.number} {event.title}"

    if action == "accept":
        changes.update(status=S.FILED, filed_at=now)
        if cat.self_resolve:
            due = cal.add(now, cat.handle_limit, cat.handle_unit)
            changes.update(handle_due_at=due, due_at=due)
        else:
            changes["due_at"] = cal.add(now, cat.accept_limit, cat.accept_unit)
    elif action == "reject":
        changes.update(status=S.REJECTED, due_at=None)
    elif action == "self_resolve":
        changes.update(
            status=S.VERIFYING,
            self_resolved=True,
            handler_id=scope.user_id,
            reported_at=now,
            due_at=cal.add(now, cat.verify_limit, cat.verify_unit),
        )
        if event.handle_due_at is None:
            changes["handle_due_at"] = now
        if params.get("note"):
            details["note"] = str(params["note"])[:2000]
    elif action in {"dispatch", "assign"}:
        dept = _department(params, event)
        due = cal.add(now, cat.handle_limit, cat.handle_unit)  # frozen here
        changes.update(
            status=S.DISPATCHED,
            department_code=dept,
            handler_department=dept,
            dispatched_at=now,
            handle_due_at=due,
            due_at=due,
        )
        if action == "assign":
            changes["no_return"] = True
        details.update(department=dept, due_at=due.isoformat())
        notices.append(
            (
                notify.department_recipients(_with(event, department_code=dept)),
                "dispatched",
                _("New event for your department: %(title)s") % {"title": title},
            )
        )
    elif action == "return":
        changes.update(
            status=S.RETURNED,
            department_code="",
            return_count=F("return_count") + 1,
            due_at=cal.add(now, cat.accept_limit, cat.accept_unit),
        )
        details["department"] = event.department_code
        notices.append(
            (
                notify.tier_recipients(event, max(event.tier, Tier.COMMUNITY)),
                "returned",
                _("Event returned by the department: %(title)s") % {"title": title},
            )
        )
    elif action == "handle":
        changes.update(status=S.HANDLING, handler_id=scope.user_id)
    elif action == "report":
        changes.update(
            status=S.VERIFYING,
            reported_at=now,
            due_at=cal.add(now, cat.verify_limit, cat.verify_unit),
        )
        if event.handler_id is None:
            changes["handler_id"] = scope.user_id
        if params.get("note"):
            details["note"] = str(params["note"])[:2000]
        notices.append(
            (
                notify.tier_recipients(event, Tier.GRID),
                "verify",
                _("Please verify on site: %(title)s") % {"title": title},
            )
        )
    elif action in {"request_extension", "extend"}:
        amount, unit = _amount(params, event)
        details.update(amount=amount, unit=unit)
        if action == "request_extension":
            changes["extension_request"] = {"amount": amount, "unit": unit, "reason": reason}
            notices.append(
                (
                    notify.tier_recipients(event, max(event.tier, Tier.COMMUNITY)),
                    "extension_requested",
                    _("More time requested: %(title)s") % {"title": title},
                )
            )
        else:
            base = event.handle_due_at or now
            due = cal.add(max(base, now) if event.overdue else base, amount, unit)
            changes.update(
                handle_due_at=due,
                due_at=due,
                extension_request=None,
                extend_count=F("extend_count") + 1,
            )
            details["due_at"] = due.isoformat()
    elif action == "park":
        changes.update(
            status=S.PARKED,
            parked_from=event.status,
            parked_at=now,
            due_at=None,
            park_count=F("park_count") + 1,
        )
    elif action == "unpark":
        paused = cal.working_minutes_between(event.parked_at or now, now)
        changes.update(status=event.parked_from or S.FILED, parked_from="", parked_at=None)
        if event.handle_due_at is not None:
            due = cal.add_minutes(event.handle_due_at, paused) if paused else event.handle_due_at
            changes.update(handle_due_at=due, due_at=due)
        else:
            changes["due_at"] = cal.add(now, cat.accept_limit, cat.accept_unit)
    elif action == "verify":
        passed = _bool(params.get("passed"))
        details["passed"] = passed
        if passed:
            changes.update(status=S.VERIFIED, due_at=None)
        else:
            if not reason:
                raise ValidationFailed(_("Please say what is still wrong."), code="reason_required")
            changes["rework_count"] = F("rework_count") + 1
            if event.self_resolved and not event.handler_department:
                changes.update(status=S.FILED, due_at=event.handle_due_at, self_resolved=False)
            else:
                changes.update(
                    status=S.DISPATCHED,
                    department_code=event.handler_department,
                    due_at=event.handle_due_at,
                )
                notices.append(
                    (
                        notify.department_recipients(
                            _with(event, department_code=event.handler_department)
                        ),
                        "rework",
                        _("Verification failed, please handle again: %(title)s") % {"title": title},
                    )
                )
    elif action == "close":
        on_time = event.handle_due_at is None or (
            event.reported_at is not None and event.reported_at <= event.handle_due_at
        )
        kind = CloseKind.NORMAL if on_time else CloseKind.OVERDUE
        changes.update(_closing(event, now, kind), on_time=kind == CloseKind.NORMAL)
        details["kind"] = kind
    elif action == "close_special":
        kind = params.get("kind") or CloseKind.SPECIAL
        if kind not in {CloseKind.SPECIAL, CloseKind.ERRONEOUS}:
            raise ValidationFailed(
                _("A special close is special or erroneous."), code="invalid_kind"
            )
        changes.update(_closing(event, now, CloseKind(kind)), on_time=None)
        details["kind"] = kind
    elif action == "supervise":
        changes["supervised"] = True
        notices.append(
            (
                notify.department_recipients(event) + notify.tier_recipients(event, event.tier),
                "supervised",
                _("Supervision (督办): %(title)s — %(reason)s")
                % {"title": title, "reason": reason},
            )
        )
    elif action == "callback":
        try:
            value = int(params.get("satisfaction") or 0)
        except (TypeError, ValueError):
            value = 0
        if value not in SATISFACTION:
            raise ValidationFailed(
                _("Satisfaction is 1 (satisfied), 2 (fairly satisfied) or 3 (not satisfied)."),
                code="invalid_satisfaction",
            )
        changes["satisfaction"] = value
        details["satisfaction"] = value
        if params.get("note"):
            details["note"] = str(params["note"])[:2000]
    elif action == "merge":
        target = _merge_target(scope, event, params.get("into"))
        changes.update(status=S.MERGED, merged_into_id=target.pk, due_at=None)
        details["into"] = target.pk
    elif action == "escalate":
        tier = min(event.tier + 1, Tier.DISTRICT)
        changes["tier"] = tier
        details["tier"] = tier
    return changes, details, notices


def _closing(event: Event, now: dt.datetime, kind: CloseKind) -> dict[str, Any]:
    start = event.filed_at or event.created_at
    return {
        "status": S.CLOSED,
        "closed_at": now,
        "close_kind": kind,
        "due_at": None,
        "handling_seconds": int((now - start).total_seconds()),
    }


def _with(event: Event, **fields: Any) -> Event:
    copy = Event(**{f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields})
    for k, v in fields.items():
        setattr(copy, k, v)
    return copy


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "pass", "passed"}
    return bool(value)


def _amount(params: dict[str, Any], event: Event) -> tuple[int, str]:
    request = event.extension_request or {}
    raw_amount: Any = params.get("amount") or request.get("amount")
    unit = params.get("unit") or request.get("unit") or LimitUnit.DAY
    try:
        amount = int(raw_amount)
    except (TypeError, ValueError):
        amount = 0
    if amount < 1 or amount > 1000 or unit not in LimitUnit.values:
        raise ValidationFailed(
            _("Give the extra time as a whole number of working minutes, hours or days."),
            code="invalid_amount",
        )
    return amount, str(unit)


def _merge_target(scope: Scope, event: Event, into: Any) -> Event:
    try:
        target_id = int(into)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Name the event to merge into."), code="into_required") from None
    if target_id == event.pk:
        raise ValidationFailed(_("An event cannot be merged into itself."), code="invalid_target")
    target = _load(scope, target_id)
    if target.status not in OPEN_STATUSES or target.status == S.MERGED:
        raise ValidationFailed(_("Merge into an open event."), code="invalid_target")
    return target
