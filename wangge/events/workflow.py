"""The event workflow: one table of what is allowed (`rules.RULES`), one function that
applies it.

`step()` computes what an action changes, without the database: `transition()` applies it to
a stored event, and the demo's history to events in memory, so a workflow change is made once.
`transition()` is the only code that changes an event's status. It checks the table, the grant
covering the event and the action's own rules, applies the change with a conditional UPDATE on
`version` (of two people acting at once exactly one wins), writes the log line, an audit entry
and the photos taken with it, and notifies — all in one transaction.

Escalation is not an action: nobody takes it; the deadline scan does (`scan.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope
from wangge.events import notify
from wangge.events import photos as event_photos
from wangge.events.calendar import Calendar, Clock
from wangge.events.models import (
    OPEN_STATUSES,
    CloseKind,
    Event,
    EventAction,
    LimitUnit,
    Status,
    Tier,
)
from wangge.events.rules import KIND, NOTE, RULES, SATISFACTION, category_department

S = Status


class TransitionError(ValidationFailed):
    code = "illegal_transition"


# --- what an action changes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Whom an action tells, and what: the people answerable at `tiers`, the department
    officers of `department`; `kind` names the text (`NOTICES`)."""

    kind: str
    tiers: tuple[int, ...] = ()
    department: str = ""


NOTICES = {
    "dispatched": gettext_lazy("New event for your department: %(title)s"),
    "returned": gettext_lazy("Event returned by the department: %(title)s"),
    "verify": gettext_lazy("Please verify on site: %(title)s"),
    "extension_requested": gettext_lazy("More time requested: %(title)s"),
    "rework": gettext_lazy("Verification failed, please handle again: %(title)s"),
    "supervised": gettext_lazy("Supervision (督办): %(title)s — %(reason)s"),
}


@dataclass
class Step:
    changes: dict[str, Any]  # field → new value
    details: dict[str, Any]  # for the log line
    notices: list[Notice]


def refusal(event: Event, action: str, actor_id: int | None) -> str | None:
    """Whether `action` may be taken on the event now, beyond who takes it: the table's source
    statuses and the action's own rules. A message when it may not."""
    rule = RULES[action]
    if event.status not in rule.sources:
        return _("Cannot %(action)s an event that is %(status)s.") % {
            "action": str(rule.label),
            "status": Status(event.status).label,
        }
    if action == "self_resolve" and not event.category.self_resolve:
        return _("This category cannot be resolved in the grid; dispatch it.")
    if action == "return" and event.no_return:
        return _("This event was assigned after a return; it cannot be returned again.")
    if action == "verify" and actor_id is not None and actor_id == event.handler_id:
        return _("The person who handled an event cannot verify it.")
    if (
        action == "extend"
        and event.status == S.FILED
        and not event.self_resolved
        and not event.category.self_resolve
    ):
        return _("Only events with a handling deadline can be extended.")
    return None


def step(
    event: Event,
    action: str,
    *,
    actor_id: int | None,
    reason: str,
    now: dt.datetime,
    params: dict[str, Any],
    clock: Clock,
) -> Step:
    """What `action` by `actor_id` changes on `event` at `now`, without touching the database.

    The caller has checked `refusal()` and the actor's right, and resolved what needs the
    database: `department` is a known department's code, `into` an open event's id. Raises
    ValidationFailed for a missing or bad parameter."""
    rule = RULES[action]
    cat = event.category
    changes: dict[str, Any] = {"status": rule.to} if rule.to else {}
    details: dict[str, Any] = {}
    notices: list[Notice] = []
    note = str(params.get("note") or "")[:2000]

    if action == "accept":
        changes["filed_at"] = now
        if cat.self_resolve:
            due = clock.add(now, cat.handle_limit, cat.handle_unit)
            changes.update(handle_due_at=due, due_at=due)
        else:
            changes["due_at"] = clock.add(now, cat.accept_limit, cat.accept_unit)
    elif action == "reject":
        changes["due_at"] = None
    elif action == "self_resolve":
        changes.update(
            self_resolved=True,
            handler_id=actor_id,
            reported_at=now,
            due_at=clock.add(now, cat.verify_limit, cat.verify_unit),
        )
        if event.handle_due_at is None:
            changes["handle_due_at"] = now
    elif action in {"dispatch", "assign"}:
        dept = str(params["department"])
        due = clock.add(now, cat.handle_limit, cat.handle_unit)  # frozen here
        changes.update(
            department_code=dept,
            handler_department=dept,
            dispatched_at=now,
            handle_due_at=due,
            due_at=due,
        )
        if action == "assign":
            changes["no_return"] = True
        details.update(department=dept, due_at=due.isoformat())
        notices.append(Notice("dispatched", department=dept))
    elif action == "return":
        changes.update(
            department_code="",
            return_count=event.return_count + 1,
            due_at=clock.add(now, cat.accept_limit, cat.accept_unit),
        )
        details["department"] = event.department_code
        notices.append(Notice("returned", tiers=(max(event.tier, Tier.COMMUNITY),)))
    elif action == "handle":
        changes["handler_id"] = actor_id
    elif action == "report":
        changes.update(reported_at=now, due_at=clock.add(now, cat.verify_limit, cat.verify_unit))
        if event.handler_id is None:
            changes["handler_id"] = actor_id
        notices.append(Notice("verify", tiers=(Tier.GRID,)))
    elif action in {"request_extension", "extend"}:
        amount, unit = _amount(params, event)
        details.update(amount=amount, unit=unit)
        if action == "request_extension":
            changes["extension_request"] = {"amount": amount, "unit": unit, "reason": reason}
            notices.append(Notice("extension_requested", tiers=(max(event.tier, Tier.COMMUNITY),)))
        else:
            base = event.handle_due_at or now
            due = clock.add(max(base, now) if event.overdue else base, amount, unit)
            changes.update(
                handle_due_at=due,
                due_at=due,
                extension_request=None,
                extend_count=event.extend_count + 1,
            )
            details["due_at"] = due.isoformat()
    elif action == "park":
        changes.update(
            parked_from=event.status,
            parked_at=now,
            due_at=None,
            park_count=event.park_count + 1,
        )
    elif action == "unpark":
        paused = clock.working_minutes_between(event.parked_at or now, now)
        changes.update(status=event.parked_from or S.FILED, parked_from="", parked_at=None)
        if event.handle_due_at is not None:
            due = clock.add_minutes(event.handle_due_at, paused) if paused else event.handle_due_at
            changes.update(handle_due_at=due, due_at=due)
        else:
            changes["due_at"] = clock.add(now, cat.accept_limit, cat.accept_unit)
    elif action == "verify":
        passed = _bool(params.get("passed"))
        details["passed"] = passed
        if passed:
            changes.update(status=S.VERIFIED, due_at=None)
        else:
            if not reason:
                raise ValidationFailed(_("Please say what is still wrong."), code="reason_required")
            changes["rework_count"] = event.rework_count + 1
            if event.self_resolved and not event.handler_department:
                changes.update(status=S.FILED, due_at=event.handle_due_at, self_resolved=False)
            else:
                changes.update(
                    status=S.DISPATCHED,
                    department_code=event.handler_department,
                    due_at=event.handle_due_at,
                )
                notices.append(Notice("rework", department=event.handler_department))
    elif action == "close":
        on_time = event.handle_due_at is None or (
            event.reported_at is not None and event.reported_at <= event.handle_due_at
        )
        kind = CloseKind.NORMAL if on_time else CloseKind.OVERDUE
        changes.update(_closing(event, now, kind), on_time=kind == CloseKind.NORMAL)
        details["kind"] = kind
    elif action == "close_special":
        kind = params.get("kind") or CloseKind.SPECIAL
        if kind not in KIND.values:
            raise ValidationFailed(
                _("A special close is special or erroneous."), code="invalid_kind"
            )
        changes.update(_closing(event, now, CloseKind(kind)), on_time=None)
        details["kind"] = kind
    elif action == "supervise":
        changes["supervised"] = True
        notices.append(Notice("supervised", tiers=(event.tier,), department=event.department_code))
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
    elif action == "merge":
        target = int(params["into"])
        changes.update(merged_into_id=target, due_at=None)
        details["into"] = target
    if note and any(p.name == NOTE.name for p in rule.params):
        details["note"] = note
    return Step(changes, details, notices)


def apply_in_memory(event: Event, change: Step) -> None:
    """Apply a step to an event that is not stored (the demo's history): the same fields
    `transition()` updates, and its version."""
    for name, value in change.changes.items():
        setattr(event, name, value)
    event.version += 1


def _closing(event: Event, now: dt.datetime, kind: CloseKind) -> dict[str, Any]:
    start = event.filed_at or event.created_at
    return {
        "closed_at": now,
        "close_kind": kind,
        "due_at": None,
        "handling_seconds": int((now - start).total_seconds()),
    }


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


# --- applying it to a stored event ---------------------------------------------------------------


def allowed_actions(actor: Any, event: Event) -> list[str]:
    """The actions this actor may take on this event now (what the page offers)."""
    scope = as_scope(actor)
    return [
        name
        for name, rule in RULES.items()
        if scope.holds_for(rule.perm, event) and refusal(event, name, scope.user_id) is None
    ]


def transition(
    actor: Any,
    event: Event | int,
    action: str,
    *,
    reason: str = "",
    now: dt.datetime | None = None,
    expected_version: int | None = None,
    photos: Sequence[bytes] = (),
    **params: Any,
) -> Event:
    """Apply `action` to the event as `actor`, with the photos taken with it. Raises NotFound
    (not visible), PermissionDenied (visible, but not this actor's to do, or not their photos
    to add), TransitionError (not from this status, or a rule says no), ValidationFailed
    (missing reason/parameter, a bad photo) or Conflict (someone acted first)."""
    scope = as_scope(actor)
    now = now or timezone.now()
    rule = RULES.get(action)
    if rule is None:
        raise TransitionError(_("Unknown action: %(action)s") % {"action": action})
    if photos and rule.photos is None:
        raise ValidationFailed(_("This step takes no photos."), code="no_photos")
    checked = event_photos.validate(photos) if photos else []  # before anything is written
    event_id = event.pk if isinstance(event, Event) else int(event)
    with transaction.atomic():
        current = _load(scope, event_id)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(_("Someone else acted on this event first. Reload and try again."))
        if not scope.holds_for(rule.perm, current):
            raise PermissionDenied(_("This action is not yours to take on this event."))
        refused = refusal(current, action, scope.user_id)
        if refused:
            raise TransitionError(refused, details={"status": current.status, "action": action})
        reason = (reason or "").strip()
        if rule.reason and not reason:
            raise ValidationFailed(_("Please give a reason."), code="reason_required")
        if action in {"dispatch", "assign"}:
            params["department"] = _department(params, current)
        if action == "merge":
            params["into"] = _merge_target(scope, current, params.get("into")).pk
        change = step(
            current,
            action,
            actor_id=scope.user_id,
            reason=reason,
            now=now,
            params=params,
            clock=Calendar(),
        )
        from_status = current.status
        won = (
            Event.objects.dangerously_unscoped()
            .filter(pk=current.pk, version=current.version)
            .update(**change.changes, version=F("version") + 1, updated_at=now)
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
            details=change.details,
        )
        audit_record(
            actor=scope,
            action=f"event.{action}",
            object_type="event",
            object_id=current.pk,
            details={"from": from_status, "to": current.status, "reason_given": bool(reason)}
            | {k: v for k, v in change.details.items() if k in _AUDITED},
        )
        title = f"{current.number} {current.title}"
        for notice in change.notices:
            notify.notify(
                _recipients(current, notice),
                event=current,
                kind=notice.kind,
                message=str(NOTICES[notice.kind]) % {"title": title, "reason": reason},
                now=now,
            )
        if checked and rule.photos:
            event_photos.attach(
                scope=scope, event=current, photos=checked, stage=rule.photos, now=now
            )
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


def _department(params: dict[str, Any], event: Event) -> str:
    from wangge.core.selectors import department_names

    code = params.get("department") or category_department(event)
    if not code or code not in department_names():
        raise ValidationFailed(
            _("Choose the department to dispatch to."), code="department_required"
        )
    return str(code)


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


def _recipients(event: Event, notice: Notice) -> list[Any]:
    users = []
    if notice.department:
        users += notify.department_recipients(_with(event, department_code=notice.department))
    for tier in notice.tiers:
        users += notify.tier_recipients(event, tier)
    return users


def _with(event: Event, **fields: Any) -> Event:
    copy = Event(**{f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields})
    for k, v in fields.items():
        setattr(copy, k, v)
    return copy
