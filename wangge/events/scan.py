"""The deadline scan: mark overdue events and escalate them one tier, once per deadline.

Each event is claimed with a conditional UPDATE (`… WHERE overdue_marked_for IS DISTINCT FROM
due_at`), so running the scan again, or in two workers at once, marks and escalates nothing
twice. `wangge worker` runs it every WANGGE_EVENTS_SCAN_SECONDS; `wangge events scan` once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.scope import Scope
from wangge.events import notify
from wangge.events.models import OPEN_STATUSES, Event, EventAction, Status, Tier

log = logging.getLogger(__name__)
SYSTEM = Scope.system("deadline-scan")
# A parked event's clock is stopped: it cannot be overdue.
MARKABLE = frozenset(OPEN_STATUSES - {Status.PARKED})


def scan(now: dt.datetime | None = None, *, limit: int = 5000) -> dict[str, int]:
    """Mark every open event whose current deadline has passed; escalate each once."""
    now = now or timezone.now()
    due = (
        Event.objects.dangerously_unscoped()
        .filter(status__in=list(MARKABLE), due_at__lt=now)
        .filter(Q(overdue_marked_for__isnull=True) | Q(overdue_marked_for__lt=F("due_at")))
        .order_by("due_at")
        .values_list("pk", "due_at")[:limit]
    )
    marked = escalated = 0
    for pk, due_at in list(due):
        with transaction.atomic():
            won = (
                Event.objects.dangerously_unscoped()
                .filter(pk=pk, due_at=due_at)
                .filter(Q(overdue_marked_for__isnull=True) | Q(overdue_marked_for__lt=due_at))
                .update(overdue=True, overdue_marked_for=due_at, version=F("version") + 1)
            )
            if not won:
                continue
            marked += 1
            event = Event.objects.dangerously_unscoped().select_related("category").get(pk=pk)
            new_tier, action, details = overdue_step(tier=event.tier, due_at=due_at)
            if new_tier != event.tier:
                Event.objects.dangerously_unscoped().filter(pk=pk).update(
                    tier=new_tier, updated_at=now
                )
                escalated += 1
            EventAction.objects.create(
                event=event,
                at=now,
                actor_name=SYSTEM.username,
                action=action,
                from_status=event.status,
                to_status=event.status,
                details=details,
            )
            audit_record(
                actor=SYSTEM,
                action="event.overdue",
                object_type="event",
                object_id=pk,
                details=details,
            )
            title = f"{event.number} {event.title}"
            recipients = notify.tier_recipients(event, new_tier) + notify.department_recipients(
                event
            )
            notify.notify(
                recipients,
                event=event,
                kind="overdue",
                message=_("Overdue, escalated to you: %(title)s") % {"title": title},
                now=now,
            )
    return {"overdue_marked": marked, "escalated": escalated}


def overdue_step(*, tier: int, due_at: dt.datetime) -> tuple[int, str, dict[str, Any]]:
    """What marking an event overdue once for `due_at` does (the demo's history runs it too):
    the tier it rises to (one up, at most the district), the log line's action (`escalate`, or
    `overdue` when it is at the district already) and details."""
    new_tier = min(tier + 1, Tier.DISTRICT)
    action = "escalate" if new_tier != tier else "overdue"
    return new_tier, action, {"due_at": due_at.isoformat(), "tier": new_tier}


def _periodic(**_kw: Any) -> dict[str, int]:
    result = scan()
    if result["overdue_marked"]:
        log.info("deadline scan: %s", result)
    return result


def register() -> None:
    from wangge.core import jobs

    jobs.register_periodic("events.scan", settings.EVENTS_SCAN_SECONDS, _periodic)
