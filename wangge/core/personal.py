"""Personal data on screen: normalising, masking, and the audited "reveal"."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from wangge.core.audit import audit_record
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.roles import Perm
from wangge.core.scope import as_scope

REVEAL_REASON_MIN = 4


def normalise(value: str) -> str:
    """Full-width to half-width, no spaces, upper case (ID numbers' x, credit codes)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def mask_id_number(value: str) -> str:
    """440704**********123X: the region and the last four stay, as Chinese systems show it."""
    value = normalise(value)
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}**********{value[-4:]}"


def mask_name(value: str) -> str:
    """王**: the family name stays."""
    return value[0] + "*" * (len(value) - 1) if value else ""


def mask_phone(value: str) -> str:
    """138****1234."""
    value = normalise_phone(value) or value
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def reveal(*, actor: Any, object_type: str, object_id: str | int, field: str, reason: str) -> None:
    """Allow one look at a personal field, and write why to the audit log.

    The caller has already fetched the object through a scoped selector (so it is in scope);
    this checks the role and the reason, and records the look. The caller then shows the
    plaintext in that response only.
    """
    scope = as_scope(actor)
    if not scope.has(Perm.PERSONAL_REVEAL):
        audit_record(
            actor=actor,
            action="personal.reveal",
            object_type=object_type,
            object_id=object_id,
            outcome="denied",
            details={"field": field},
        )
        raise PermissionDenied(_("Your role may not see full personal data."))
    reason = (reason or "").strip()
    if len(reason) < REVEAL_REASON_MIN:
        raise ValidationFailed(
            _("Give a reason of at least %(n)d characters.") % {"n": REVEAL_REASON_MIN},
            code="reason_required",
        )
    audit_record(
        actor=actor,
        action="personal.reveal",
        object_type=object_type,
        object_id=object_id,
        details={"field": field, "reason": reason[:500]},
    )
