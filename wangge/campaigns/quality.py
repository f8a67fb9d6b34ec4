"""Data quality of the ledger per grid and kind: what a campaign improves, measured when it
opens (the snapshot) and now. One aggregate query per kind (and one for duplicates)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q

from wangge.campaigns.selection import current
from wangge.core.scope import Scope

MEASURES = ("total", "complete", "valid", "duplicates", "never_verified", "stale")

# Field key → "this record has it", for fields stored differently from their key.
_HAS = {
    "id_number": ~Q(id_index=None) & ~Q(id_index=""),
    "phone": ~Q(phone_index=""),
}
# What a valid code means per kind (check digits verified on entry).
_VALID = {
    "person": Q(id_checked=True) & ~Q(id_index=None),
    "organisation": Q(credit_checked=True) & ~Q(credit_code=""),
}
# What makes two records of a kind suspected duplicates inside one grid.
_DUPLICATE_KEYS = {"person": ("name", "birth_date"), "organisation": ("name",)}


def _has(model: Any, key: str) -> Q | None:
    if key in _HAS:
        return _HAS[key]
    try:
        f = model._meta.get_field(key)
    except Exception:
        return None
    if f.null:
        return ~Q(**{key: None})
    if f.get_internal_type() in {"CharField", "TextField"}:
        return ~Q(**{key: ""})
    return None


def measure(
    scope: Scope,
    *,
    grid_codes: list[str],
    kinds: list[str],
    fields: dict[str, list[str]],
    today: dt.date,
) -> dict[tuple[str, str], dict[str, int]]:
    """(grid, kind) → counts: total, complete (every field the campaign verifies present),
    valid (check digits verified), duplicates (records sharing name and birth date, or name,
    with another in the grid), never_verified, stale (last verified over a year ago)."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    year_ago = today - dt.timedelta(days=365)
    for kind in kinds:
        qs = current(kind, scope).filter(grid_code__in=grid_codes)
        model = qs.model
        complete = Q()
        for key in fields.get(kind, []):
            has = _has(model, key)
            if has is not None:
                complete &= has
        valid = _VALID.get(kind, Q())
        rows = (
            qs.order_by()
            .values("grid_code")
            .annotate(
                total=Count("id"),
                complete=Count("id", filter=complete) if complete else Count("id"),
                valid=Count("id", filter=valid) if valid else Count("id"),
                never_verified=Count("id", filter=Q(verified_on=None)),
                stale=Count("id", filter=Q(verified_on__lt=year_ago)),
            )
        )
        for row in rows:
            counts = out[(row["grid_code"], kind)]
            for m in ("total", "complete", "valid", "never_verified", "stale"):
                counts[m] = row[m]
        keys = _DUPLICATE_KEYS.get(kind)
        if keys:
            dupes = qs.exclude(birth_date=None) if "birth_date" in keys else qs
            groups = (
                dupes.order_by()
                .values("grid_code", *keys)
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .values_list("grid_code", "n")
            )
            for grid, n in groups:
                out[(grid, kind)]["duplicates"] += n
    return dict(out)
