"""Personal data on screen: normalising, masking, and the audited "reveal"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
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
    """440704************: only the region code stays.

    The common 440704**********123X would keep the sequence and check digits, and with the
    birth date shown beside it (8 more digits) the whole number could be rebuilt. So nothing
    after the region is shown, and screens show the birth year or age, never the full date: the
    region, the year and the gender leave some 180,000 candidates (tested: test_masking.py).
    """
    value = normalise(value)
    if len(value) <= 6:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 6)


def birth_year(value: Any) -> int | None:
    """The year of a birth date (what lists and exports show instead of the date)."""
    return value.year if value else None


def age_on(value: Any, today: Any) -> int | None:
    if not value:
        return None
    return today.year - value.year - ((today.month, today.day) < (value.month, value.day))


def mask_name(value: str) -> str:
    """王**: the family name stays."""
    return value[0] + "*" * (len(value) - 1) if value else ""


def mask_phone(value: str) -> str:
    """138****1234."""
    value = normalise_phone(value) or value
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def reveal(
    *,
    actor: Any,
    object_type: str,
    object_id: str | int,
    field: str,
    reason: str,
    codes: Iterable[str],
    department: str | None = None,
) -> None:
    """Allow one look at a personal field, and write why to the audit log.

    The caller (a module's service) has already fetched the object through a scoped selector,
    so it is in scope; this checks that a grant holding `personal.reveal` covers the object
    itself — one of `codes`, the regions where the object sits — not merely that the actor may
    reveal somewhere; checks the reason; and records the look (a refusal too). The caller then
    shows the plaintext in that one response only: never in the session or a log.
    """
    scope = as_scope(actor)
    if not any(scope.holds(Perm.PERSONAL_REVEAL, code, department) for code in codes):
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


def exact_query(q: str) -> tuple[str, str] | None:
    """("id_number" | "phone", normalised) when a search box holds a full ID number or phone."""
    cleaned = normalise(q)
    if len(cleaned) >= 15 and cleaned[:15].isdigit():
        return "id_number", cleaned
    digits = cleaned.lstrip("+")
    if digits.isdigit() and len(digits) >= 11:
        return "phone", normalise_phone(digits)
    return None


def exact_search_allowed(*, actor: Any, by: str, object_type: str) -> None:
    """Refuse, rate-limit and audit a search by a full ID number or phone.

    Finding someone by a full number answers "is this number registered here?", and tried over
    the 10⁴ hidden digits of a masked phone it rebuilds the number in seconds (security finding
    9). So only roles that may reveal may search so (the caller then searches only among the
    records a grant holding `personal.reveal` covers), each search is audited (by which kind of
    number, never the number) and a user has `WANGGE_EXACT_SEARCHES_PER_HOUR` of them an hour."""
    scope = as_scope(actor)
    if not scope.has(Perm.PERSONAL_REVEAL):
        raise PermissionDenied(
            _("Only roles that may see full personal data search by ID number or phone."),
            code="exact_search_not_allowed",
        )
    exact_lookup_counted(actor=scope, by=by, object_type=object_type)


def exact_lookup_counted(*, actor: Any, by: str, object_type: str, via: str = "search") -> None:
    """Count (and audit) an answer that tells whether a full number is registered: a search,
    or an entry refused as a duplicate. Past the hourly budget: TooManyRequests."""
    exact_lookup_budget(actor=actor)
    exact_lookup_audit(actor=actor, by=by, object_type=object_type, via=via)


def exact_lookup_budget(*, actor: Any) -> None:
    """TooManyRequests once the actor used this hour's `WANGGE_EXACT_SEARCHES_PER_HOUR`."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from wangge.core.errors import TooManyRequests
    from wangge.core.models import AuditEntry

    scope = as_scope(actor)
    if scope.user_id is None:
        return
    since = timezone.now() - dt.timedelta(hours=1)
    done = AuditEntry.objects.filter(
        actor_id=scope.user_id, action="search.exact", at__gte=since
    ).count()
    if done >= settings.LEDGER_EXACT_SEARCHES_PER_HOUR:
        raise TooManyRequests(
            _("Too many searches by ID number or phone in the last hour. Try again later."),
            code="rate_limited",
        )


def exact_lookup_audit(*, actor: Any, by: str, object_type: str, via: str = "search") -> None:
    """The audit entry of an exact lookup (which kind of number, never the number). A refused
    entry's lookup is written after its transaction rolled back (see `ExactLookup`)."""
    details = {"by": by} if via == "search" else {"by": by, "via": via}
    audit_record(actor=actor, action="search.exact", object_type=object_type, details=details)


class ExactLookup:
    """Attached to an error whose answer told that a number is registered (`exc.lookup`):
    the service's caller audits it once the transaction that raised has rolled back."""

    def __init__(self, *, actor: Any, by: str, object_type: str, via: str) -> None:
        self.kwargs = {"actor": actor, "by": by, "object_type": object_type, "via": via}

    def audit(self) -> None:
        exact_lookup_audit(**self.kwargs)
