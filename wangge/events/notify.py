"""Notifications: a row per recipient shown in the app, and SMS through a pluggable backend.

`WANGGE_SMS_BACKEND` names a class with `send(*, user, text)`; the default only logs, so an
intranet without an SMS gateway loses nothing. Texts are sent after the transaction commits;
a failing backend never fails the workflow.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.module_loading import import_string

from wangge.core.models import Grant, User
from wangge.core.roles import Role
from wangge.events.models import Event, Notification, Tier

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, user: User, text: str) -> None: ...


class LogSmsBackend:
    """Writes the message to the log (`wangge.events.notify`) instead of sending it."""

    def send(self, *, user: User, text: str) -> None:
        log.info("SMS to %s: %s", user.get_username(), text)


def sms_backend() -> SmsBackend:
    backend: Any = import_string(settings.SMS_BACKEND)
    return backend()


TIER_PREFIX = {Tier.GRID: 15, Tier.COMMUNITY: 12, Tier.STREET: 9, Tier.DISTRICT: 6}
_CENTRE = {
    Tier.COMMUNITY: Role.COMMUNITY_OFFICER,
    Tier.STREET: Role.STREET_OFFICER,
    Tier.DISTRICT: Role.DISTRICT_ADMIN,
}


def tier_recipients(event: Event, tier: int) -> list[User]:
    """The people answerable for an event at a tier: the grid's leader and workers, or the
    centre (community / street / district officers) whose region is the event's at that tier."""
    code = event.grid_code[: TIER_PREFIX[Tier(tier)]]
    if tier == Tier.GRID:
        q = Q(role__in=[Role.GRID_LEADER, Role.GRID_WORKER], region_code=code)
    else:
        q = Q(role=_CENTRE[Tier(tier)], region_code=code)
    return list(User.objects.filter(is_active=True, grants__in=Grant.objects.filter(q)).distinct())


def department_recipients(event: Event) -> list[User]:
    if not event.department_code:
        return []
    prefixes = [event.grid_code[:n] for n in (6, 9, 12, 15)]
    grants = Grant.objects.filter(
        role=Role.DEPARTMENT_OFFICER,
        department__code=event.department_code,
        region_code__in=prefixes,
    )
    return list(User.objects.filter(is_active=True, grants__in=grants).distinct())


def notify(
    users: Iterable[User], *, event: Event, kind: str, message: str, now: dt.datetime
) -> int:
    unique = {u.pk: u for u in users}
    Notification.objects.bulk_create(
        Notification(user=u, event=event, kind=kind, message=message[:300], created_at=now)
        for u in unique.values()
    )
    # SMS leave after the commit: a slow gateway must not hold the transaction (and on SQLite
    # the write lock), and a rolled-back action must not have texted anyone.
    transaction.on_commit(lambda: _send(list(unique.values()), message))
    return len(unique)


def notify_users(
    users: Iterable[User], *, kind: str, message: str, link: str, now: dt.datetime
) -> int:
    """A notification that is not about an event (a campaign task overdue): `link` is the site
    path it leads to."""
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError("a notification links inside the site")
    unique = {u.pk: u for u in users}
    Notification.objects.bulk_create(
        Notification(
            user=u, event=None, kind=kind, message=message[:300], link=link[:200], created_at=now
        )
        for u in unique.values()
    )
    transaction.on_commit(lambda: _send(list(unique.values()), message))
    return len(unique)


def _send(users: list[User], message: str) -> None:
    backend = sms_backend()
    for u in users:
        try:
            backend.send(user=u, text=message)
        except Exception:  # an SMS gateway outage must not undo the workflow
            log.exception("SMS backend failed for %s", u.get_username())
