"""Reads of the ledger, always through the actor's scope. Exact lookups of ID numbers and
phones go through blind indexes; nothing here decrypts more than the page shows."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from wangge.core.personal import normalise
from wangge.core.roles import Perm
from wangge.core.scope import access, as_scope
from wangge.ledger.importers import person_id_index, phone_index, tag_index
from wangge.ledger.models import (
    Building,
    Household,
    Organisation,
    Person,
    SensitiveTag,
    Thing,
)


def person_list(
    *,
    actor: Any,
    q: str = "",
    grid: str = "",
    care_tag: str = "",
    special_tag: str = "",
    address: str = "",
) -> QuerySet[Person]:
    """People in scope. `q` is a name (prefix), or a full ID number or phone (exact, through
    the blind index). A special-group filter needs `ledger.sensitive`; without it the filter
    matches nobody, exactly as if the tag did not exist."""
    scope = as_scope(actor)
    qs = Person.objects.visible_to(scope, Perm.LEDGER_VIEW)
    q = (q or "").strip()
    if q:
        cleaned = normalise(q)
        if len(cleaned) >= 15 and cleaned[:17].isdigit():
            qs = qs.filter(id_index=person_id_index(cleaned))
        elif cleaned.isdigit() and len(cleaned) >= 11:
            qs = qs.filter(phone_index=phone_index(cleaned))
        else:
            qs = qs.filter(name__startswith=q)
    if grid:
        qs = qs.filter(grid_code__gte=grid, grid_code__lt=grid + ":")
    if care_tag:
        qs = qs.filter(care_tags__contains=care_tag)
    if address:
        qs = qs.filter(
            Q(current_address__contains=address) | Q(room__building__address__contains=address)
        )
    if special_tag:
        if not scope.has(Perm.LEDGER_SENSITIVE):
            return qs.none()
        tagged = SensitiveTag.objects.visible_to(scope, Perm.LEDGER_SENSITIVE).filter(
            tag_index=tag_index(special_tag)
        )
        qs = qs.filter(pk__in=tagged.values("person_id"))
    return qs.order_by("grid_code", "id")


def person_get(*, actor: Any, person_id: int) -> Person:
    return access(
        Person.objects.select_related("room__building__estate", "household"),
        actor,
        Perm.LEDGER_VIEW,
        pk=person_id,
    )


def person_household(*, actor: Any, person: Person) -> list[Person]:
    if person.household_id is None:
        return []
    return list(
        Person.objects.visible_to(actor, Perm.LEDGER_VIEW)
        .filter(household_id=person.household_id)
        .order_by("id")
    )


def person_special_tags(*, actor: Any, person: Person) -> list[str] | None:
    """The person's special-group tags, or None when the actor may not know they exist."""
    scope = as_scope(actor)
    if not scope.has(Perm.LEDGER_SENSITIVE):
        return None
    return sorted(
        t.tag
        for t in SensitiveTag.objects.visible_to(scope, Perm.LEDGER_SENSITIVE).filter(person=person)
    )


def household_get(*, actor: Any, household_id: int) -> Household:
    return access(Household.objects, actor, Perm.LEDGER_VIEW, pk=household_id)


def organisation_list(
    *, actor: Any, q: str = "", kind: str = "", grid: str = ""
) -> QuerySet[Organisation]:
    qs = Organisation.objects.visible_to(actor, Perm.LEDGER_VIEW)
    q = (q or "").strip()
    if q:
        code = normalise(q)
        looks_like_code = len(code) == 18 and code.isascii() and code.isalnum()
        qs = qs.filter(credit_code=code) if looks_like_code else qs.filter(name__contains=q)
    if kind:
        qs = qs.filter(kind=kind)
    if grid:
        qs = qs.filter(grid_code__gte=grid, grid_code__lt=grid + ":")
    return qs.order_by("grid_code", "id")


def organisation_get(*, actor: Any, organisation_id: int) -> Organisation:
    return access(Organisation.objects, actor, Perm.LEDGER_VIEW, pk=organisation_id)


def thing_list(
    *, actor: Any, major: str = "", minor: str = "", state: str = "", grid: str = ""
) -> QuerySet[Thing]:
    qs = Thing.objects.visible_to(actor, Perm.THINGS_VIEW)
    if major:
        qs = qs.filter(major=major)
    if minor:
        qs = qs.filter(minor=minor)
    if state:
        qs = qs.filter(state=state)
    if grid:
        qs = qs.filter(grid_code__gte=grid, grid_code__lt=grid + ":")
    return qs.order_by("grid_code", "code")


def map_features(
    *, actor: Any, bbox: tuple[float, float, float, float] | None = None, limit: int = 5000
) -> dict[str, Any]:
    """Things and buildings in scope as GeoJSON points (the ledger's map layer)."""
    scope = as_scope(actor)
    features: list[dict[str, Any]] = []
    things = Thing.objects.visible_to(scope, Perm.THINGS_VIEW)
    buildings = (
        Building.objects.visible_to(scope, Perm.LEDGER_VIEW)
        if scope.has(Perm.LEDGER_VIEW)
        else Building.objects.none()
    )
    if bbox:
        x0, y0, x1, y1 = bbox
        things = things.filter(lon__gte=x0, lon__lte=x1, lat__gte=y0, lat__lte=y1)
        buildings = buildings.filter(lon__gte=x0, lon__lte=x1, lat__gte=y0, lat__lte=y1)
    for t in things.order_by("code")[:limit]:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]},
                "properties": {
                    "layer": "thing",
                    "id": t.pk,
                    "code": t.code,
                    "name": t.name,
                    "state": t.state,
                    "grid": t.grid_code,
                },
            }
        )
    for b in buildings.order_by("code")[:limit]:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [b.lon, b.lat]},
                "properties": {
                    "layer": "building",
                    "id": b.pk,
                    "code": b.code,
                    "name": b.address,
                    "grid": b.grid_code,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def ledger_counts(*, actor: Any) -> dict[str, int]:
    scope = as_scope(actor)
    counts = {}
    if scope.has(Perm.LEDGER_VIEW):
        counts["people"] = Person.objects.visible_to(scope, Perm.LEDGER_VIEW).count()
        counts["organisations"] = Organisation.objects.visible_to(scope, Perm.LEDGER_VIEW).count()
        counts["buildings"] = Building.objects.visible_to(scope, Perm.LEDGER_VIEW).count()
    if scope.has(Perm.THINGS_VIEW):
        counts["things"] = Thing.objects.visible_to(scope, Perm.THINGS_VIEW).count()
    return counts
