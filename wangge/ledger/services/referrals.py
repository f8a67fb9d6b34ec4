"""Referrals: entries the district reviews instead of the system writing them.

When a grid worker enters an ID number that is registered outside their scope, telling them
"registered elsewhere" would disclose a person to someone who may not see them (security
finding 9), and letting the entry through would create the same person twice. So the entry is
kept, encrypted, as a referral for the district centre (`ledger.review`), and the worker is told
only that the district will look at it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.audit import audit_record
from wangge.core.errors import ValidationFailed, WanggeError
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope, require_any
from wangge.ledger.models import Referral, ReferralStatus


class Referred(WanggeError):
    """Not an error of the input: the entry went to the district for review (HTTP 202)."""

    code = "referred"
    status = 202
    default_message = gettext_lazy(
        "This entry needs a check by the district before it can be added; it has been sent "
        "to the district centre."
    )


def refer(
    *,
    actor: Any,
    kind: str,
    reason: str,
    grid_code: str,
    existing_id: int | None,
    payload: dict[str, Any],
    source: str,
) -> Referral:
    """Keep the entry for the district (in the caller's transaction) and audit it."""
    scope = as_scope(actor)
    referral = Referral.objects.create(
        kind=kind,
        reason=reason,
        grid_code=grid_code,
        district_code=grid_code[:6],
        existing_id=existing_id,
        payload=json.dumps(payload, ensure_ascii=False),
        source=source,
        created_by_id=scope.user_id,
        created_by_name=scope.username,
        created_at=timezone.now(),
    )
    audit_record(
        actor=scope,
        action="ledger.refer",
        object_type="referral",
        object_id=referral.pk,
        details={"kind": kind, "source": source},
    )
    return referral


@transaction.atomic
def referral_resolve(*, actor: Any, referral_id: int, outcome: str, note: str = "") -> Referral:
    """Close a referral as resolved (the district handled it: moved the person, corrected
    the number …) or rejected (the entry was wrong)."""
    scope = require_any(actor, Perm.LEDGER_REVIEW)
    referral = access(
        Referral.objects.select_for_update(), scope, Perm.LEDGER_REVIEW, pk=referral_id
    )
    if referral.status != ReferralStatus.OPEN:
        raise ValidationFailed(_("This referral is already closed."), code="closed")
    if outcome not in {ReferralStatus.DONE, ReferralStatus.REJECTED}:
        raise ValidationFailed(_("Resolve or reject the referral."), code="invalid_outcome")
    referral.status = outcome
    referral.note = note[:200]
    referral.resolved_by_name = scope.username
    referral.resolved_at = timezone.now()
    referral.save(update_fields=["status", "note", "resolved_by_name", "resolved_at"])
    audit_record(
        actor=scope,
        action="ledger.referral_resolve",
        object_type="referral",
        object_id=referral.pk,
        details={"outcome": outcome},
    )
    return referral
