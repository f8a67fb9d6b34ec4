"""Reads of core data: the audit log (auditors only) and the acting user's grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from wangge.core.errors import NotFound
from wangge.core.models import AuditEntry
from wangge.core.roles import Perm
from wangge.core.scope import as_scope


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
) -> QuerySet[AuditEntry]:
    """Audit entries, newest first. Only auditors; to anyone else the log does not exist."""
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
    return qs.order_by("-seq")
