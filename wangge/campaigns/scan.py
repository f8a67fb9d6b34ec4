"""The campaigns' periodic scan (run by `wangge worker` between jobs, or `wangge campaigns
scan`): release holds that expired (logged), and tell the responsible people once when a task
is still not handed in after the campaign's last day."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.campaigns.models import (
    OPEN_STATES,
    AssigneeRole,
    CampaignStatus,
    Task,
    TaskAction,
    TaskAssignee,
)
from wangge.core.audit import audit_record
from wangge.core.models import User
from wangge.core.scope import Scope

log = logging.getLogger(__name__)
SYSTEM = Scope.system("campaigns-scan")


@transaction.atomic
def scan(now: dt.datetime | None = None) -> dict[str, int]:
    from wangge.events.notify import notify_users

    now = now or timezone.now()
    today = timezone.localdate(now)
    expired = list(
        Task.objects.dangerously_unscoped()
        .select_for_update(of=("self",))
        .filter(held_until__lte=now)
        .exclude(held_by=None)
    )
    for task in expired:
        holder = task.held_by_id
        updated = (
            Task.objects.dangerously_unscoped()
            .filter(pk=task.pk, version=task.version)
            .update(held_by=None, held_until=None, version=task.version + 1)
        )
        if not updated:
            continue
        TaskAction.objects.create(
            task=task,
            grid_code=task.grid_code,
            action="expire",
            from_state=task.state,
            to_state=task.state,
            actor_id=None,
            actor_name=SYSTEM.username,
            at=now,
        )
        audit_record(
            actor=SYSTEM,
            action="campaign.task.expire",
            object_type="campaign_task",
            object_id=task.pk,
            details={"held_by": holder},
        )
    late = list(
        Task.objects.dangerously_unscoped()
        .select_for_update(of=("self",))
        .filter(
            campaign__status=CampaignStatus.OPEN,
            campaign__end__lt=today,
            state__in=OPEN_STATES,
            overdue_notified=False,
            parts__isnull=True,
        )
        .select_related("campaign")
    )
    notified = 0
    for task in late:
        named = TaskAssignee.objects.dangerously_unscoped().filter(task=task)
        user_ids = set(
            named.filter(role=AssigneeRole.RESPONSIBLE).values_list("user_id", flat=True)
        )
        if not user_ids:
            user_ids = set(named.values_list("user_id", flat=True))
        if task.held_by_id:
            user_ids.add(task.held_by_id)
        users = list(User.objects.filter(pk__in=user_ids, is_active=True))
        message = _(
            "Campaign “%(campaign)s”: the task for %(task)s is past its end date (%(end)s)."
        ) % {
            "campaign": task.campaign.name,
            "task": task.title,
            "end": task.campaign.end.isoformat(),
        }
        if users:
            notify_users(
                users,
                kind="campaign_overdue",
                message=message,
                link=f"/campaigns/tasks/{task.pk}/",
                now=now,
            )
        Task.objects.dangerously_unscoped().filter(pk=task.pk).update(overdue_notified=True)
        notified += 1
    return {"holds_expired": len(expired), "overdue_notified": notified}


def _periodic(**_kw: Any) -> dict[str, int]:
    result = scan()
    if any(result.values()):
        log.info("campaigns scan: %s", result)
    return result


def register() -> None:
    from wangge.core import jobs

    jobs.register_periodic(
        "campaigns.scan", int(getattr(settings, "CAMPAIGNS_SCAN_SECONDS", 300)), _periodic
    )
