"""Reads of the ledger, always through the actor's scope. Exact lookups of ID numbers and
phones go through blind indexes; nothing here decrypts more than the page shows.

Exact search is a look at personal data (`core.personal.exact_search_allowed`): only for roles
that may reveal, only among the people a grant holding `personal.reveal` covers, audited, and
limited per hour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from wangge.core.errors import NotFound
from wangge.core.personal import exact_query, exact_search_allowed, normalise
from wangge.core.roles import Perm
from wangge.core.scope import Scope, access, as_scope, require_any
from wangge.core.tables import sorted_by
from wangge.ledger.fields import labels
from wangge.ledger.importers import person_id_index, phone_index, tag_index
from wangge.ledger.models import (
    Building,
    Estate,
    Household,
    LedgerChange,
    Organisation,
    Person,
    RecordMerge,
    Referral,
    ReferralStatus,
    Room,
    SensitiveTag,
    Thing,
)
from wangge.regions.selectors import region_filter_q


def people_visible(*, actor: Any) -> Scope:
    """The actor's scope if the people ledger exists for them; NotFound otherwise."""
    return require_any(actor, Perm.LEDGER_VIEW)


# The people list's sort keys (a whitelist: nothing else reaches order_by; the id breaks ties).
# Encrypted columns (ID number, phone) do not sort. Names sort by their characters.
PERSON_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "gender": ("gender",),
    "age": ("-birth_date",),
    "grid": ("grid_code",),
    "address": ("room__code", "current_address"),
}


def person_list(
    *,
    actor: Any,
    q: str = "",
    grid: str = "",
    care_tag: str = "",
    special_tag: str = "",
    address: str = "",
    retired: bool = False,
    perm: Perm = Perm.LEDGER_VIEW,
    sort: str = "",
) -> QuerySet[Person]:
    """People in scope (current ones; `retired` for those who left). `q` is a name (prefix),
    or a full ID number or phone (exact, through the blind index; see `_exact_search`). A
    special-group filter needs `ledger.sensitive`; without it the filter matches nobody, exactly
    as if the tag did not exist. `sort`: one of PERSON_SORTS ("-" first: descending; default
    by grid), then the id."""
    scope = people_visible(actor=actor)
    qs = Person.objects.visible_to(scope, perm)
    q = (q or "").strip()
    if q:
        exact = exact_query(q)
        if exact is None:
            qs = qs.filter(name__startswith=q)
        else:
            by, value = exact
            exact_search_allowed(actor=scope, by=by, object_type="person")
            # Only among the people the actor may reveal: the grant covering each one decides.
            qs = Person.objects.visible_to(scope, Perm.PERSONAL_REVEAL)
            if by == "id_number":
                qs = qs.filter(id_index=person_id_index(value))
            else:
                qs = qs.filter(phone_index=phone_index(value))
    qs = qs.filter(retired_on__isnull=not retired)
    if grid:
        qs = qs.filter(region_filter_q(actor=actor, text=grid))
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
    # The room's address is the person's address where they have a room (the list shows it).
    qs = qs.select_related("room__building")
    return sorted_by(qs, sort, PERSON_SORTS, "grid")


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
    """The person's special-group tags, or None when the actor may not know they exist (the
    grant covering the person decides)."""
    scope = as_scope(actor)
    if not scope.holds(Perm.LEDGER_SENSITIVE, person.grid_code):
        return None
    return sorted(
        t.tag
        for t in SensitiveTag.objects.visible_to(scope, Perm.LEDGER_SENSITIVE).filter(person=person)
    )


def record_abilities(*, actor: Any, record: Any) -> dict[str, bool]:
    """What the actor may do with one ledger record they see (what its page offers): the same
    rules the services check, against the grant covering the record."""
    scope = as_scope(actor)
    code = record.scope_code()
    return {
        "edit": scope.holds(Perm.LEDGER_EDIT, code),
        "reveal": scope.holds(Perm.PERSONAL_REVEAL, code),
        "sensitive": scope.holds(Perm.LEDGER_SENSITIVE, code),
    }


def ledger_abilities(*, actor: Any) -> dict[str, bool]:
    """What the ledger's menus offer: which lists exist for the actor, may they add, export in
    full, review referrals."""
    scope = as_scope(actor)
    if not (scope.has(Perm.LEDGER_VIEW) or scope.has(Perm.THINGS_VIEW)):
        raise NotFound()
    return {
        "people": scope.has(Perm.LEDGER_VIEW),
        "things": scope.has(Perm.THINGS_VIEW),
        "edit": scope.has(Perm.LEDGER_EDIT),
        "unmask": scope.has(Perm.PERSONAL_REVEAL),
        "sensitive": scope.has(Perm.LEDGER_SENSITIVE),
        "review": scope.has(Perm.LEDGER_REVIEW),
    }


def record_history(*, actor: Any, kind: str, record: Any) -> list[LedgerChange]:
    """The changes of a record the actor fetched in scope (who, when, which fields)."""
    perm = Perm.THINGS_VIEW if kind == "thing" else Perm.LEDGER_VIEW
    return list(
        LedgerChange.objects.visible_to(actor, perm)
        .filter(kind=kind, record_id=record.pk)
        .order_by("-version")[:50]
    )


def household_get(*, actor: Any, household_id: int) -> Household:
    return access(
        Household.objects.select_related("head", "room"), actor, Perm.LEDGER_VIEW, pk=household_id
    )


def household_members(*, actor: Any, household: Household) -> list[Person]:
    return list(
        Person.objects.visible_to(actor, Perm.LEDGER_VIEW)
        .filter(household=household)
        .order_by("id")
    )


def household_candidates(*, actor: Any, household: Household) -> list[Person]:
    """People of the household's grid who are in no household: whom a member may be added from."""
    return list(
        Person.objects.visible_to(actor, Perm.LEDGER_EDIT)
        .filter(grid_code=household.grid_code, household__isnull=True, retired_on__isnull=True)
        .order_by("name", "id")[:200]
    )


# The organisations list's sort keys (a whitelist; the id breaks ties). The phone is encrypted.
ORGANISATION_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "credit_code": ("credit_code",),
    "kind": ("kind",),
    "employees": ("employees",),
    "grid": ("grid_code",),
}


def organisation_list(
    *,
    actor: Any,
    q: str = "",
    kind: str = "",
    grid: str = "",
    retired: bool = False,
    sort: str = "",
) -> QuerySet[Organisation]:
    """Organisations in scope: by name (part) or a full credit code, type, region; `sort` one
    of ORGANISATION_SORTS ("-" first: descending; default by grid), then the id."""
    qs = Organisation.objects.visible_to(people_visible(actor=actor), Perm.LEDGER_VIEW)
    q = (q or "").strip()
    if q:
        code = normalise(q)
        looks_like_code = len(code) == 18 and code.isascii() and code.isalnum()
        qs = qs.filter(credit_code=code) if looks_like_code else qs.filter(name__contains=q)
    if kind:
        qs = qs.filter(kind=kind)
    if grid:
        qs = qs.filter(region_filter_q(actor=actor, text=grid))
    qs = qs.filter(retired_on__isnull=not retired)
    return sorted_by(qs, sort, ORGANISATION_SORTS, "grid")


def organisation_get(*, actor: Any, organisation_id: int) -> Organisation:
    return access(Organisation.objects, actor, Perm.LEDGER_VIEW, pk=organisation_id)


def things_visible(*, actor: Any) -> Scope:
    return require_any(actor, Perm.THINGS_VIEW)


def thing_list(
    *,
    actor: Any,
    major: str = "",
    minor: str = "",
    state: str = "",
    grid: str = "",
    retired: bool = False,
) -> QuerySet[Thing]:
    qs = Thing.objects.visible_to(things_visible(actor=actor), Perm.THINGS_VIEW)
    if major:
        qs = qs.filter(major=major)
    if minor:
        qs = qs.filter(minor=minor)
    if state:
        qs = qs.filter(state=state)
    if grid:
        qs = qs.filter(region_filter_q(actor=actor, text=grid))
    return qs.filter(retired_on__isnull=not retired).order_by("grid_code", "code")


def thing_get(*, actor: Any, thing_id: int) -> Thing:
    return access(Thing.objects, actor, Perm.THINGS_VIEW, pk=thing_id)


def estate_list(*, actor: Any, grid: str = "", q: str = "") -> QuerySet[Estate]:
    """Current estates in scope, under a region (a code or a name) and whose name or one of
    whose buildings' addresses contains `q`."""
    qs = Estate.objects.visible_to(people_visible(actor=actor), Perm.LEDGER_VIEW)
    if grid:
        qs = qs.filter(region_filter_q(actor=actor, text=grid))
    q = q.strip()[:50]
    if q:
        buildings = Building.objects.visible_to(actor, Perm.LEDGER_VIEW).filter(
            address__contains=q, retired_on__isnull=True
        )
        qs = qs.filter(Q(name__contains=q) | Q(pk__in=buildings.values("estate_id")))
    return qs.filter(retired_on__isnull=True).order_by("code")


def address_search(*, actor: Any, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Buildings of the standard-address ledger whose address or estate name contains `q`
    (小区 / 楼栋), in the actor's scope: where a caller is, with its point and grid. Empty for
    fewer than two characters (too many to be of use)."""
    q = (q or "").strip()[:50]
    if len(q) < 2:
        return []
    rows = (
        Building.objects.visible_to(people_visible(actor=actor), Perm.LEDGER_VIEW)
        .filter(Q(address__contains=q) | Q(estate__name__contains=q), retired_on__isnull=True)
        .order_by("estate__code", "code")
        .values("code", "name", "address", "lon", "lat", "grid_code", "estate__name")[:limit]
    )
    return [
        {
            "code": r["code"],
            "estate": r["estate__name"],
            "building": r["name"],
            "address": r["address"],
            "lon": r["lon"],
            "lat": r["lat"],
            "grid_code": r["grid_code"],
        }
        for r in rows
    ]


def estate_get(*, actor: Any, estate_id: int) -> Estate:
    return access(Estate.objects, actor, Perm.LEDGER_VIEW, pk=estate_id)


def estate_buildings(*, actor: Any, estate: Estate) -> list[Building]:
    return list(
        Building.objects.visible_to(actor, Perm.LEDGER_VIEW)
        .filter(estate=estate, retired_on__isnull=True)
        .order_by("code")
    )


def building_get(*, actor: Any, building_id: int) -> Building:
    return access(
        Building.objects.select_related("estate"), actor, Perm.LEDGER_VIEW, pk=building_id
    )


def building_rooms(*, actor: Any, building: Building) -> list[Room]:
    return list(
        Room.objects.visible_to(actor, Perm.LEDGER_VIEW)
        .filter(building=building, retired_on__isnull=True)
        .order_by("unit", "floor", "number")
    )


def room_get(*, actor: Any, room_id: int) -> Room:
    return access(
        Room.objects.select_related("building__estate"), actor, Perm.LEDGER_VIEW, pk=room_id
    )


def referral_list(*, actor: Any, status: str = ReferralStatus.OPEN) -> QuerySet[Referral]:
    """Entries referred to the district (district centre only)."""
    scope = require_any(actor, Perm.LEDGER_REVIEW)
    qs = Referral.objects.visible_to(scope, Perm.LEDGER_REVIEW)
    return (qs.filter(status=status) if status else qs).order_by("-created_at", "-id")


def map_features(
    *, actor: Any, bbox: tuple[float, float, float, float] | None = None, limit: int = 5000
) -> dict[str, Any]:
    """Things and buildings in scope as GeoJSON points (the ledger's map layer)."""
    scope = things_visible(actor=actor)
    features: list[dict[str, Any]] = []
    things = Thing.objects.visible_to(scope, Perm.THINGS_VIEW).filter(retired_on__isnull=True)
    # Without ledger.view the query filter matches nothing: the same query, no rows.
    buildings = Building.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(retired_on__isnull=True)
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
    if not (scope.has(Perm.LEDGER_VIEW) or scope.has(Perm.THINGS_VIEW)):
        raise NotFound()
    current = Q(retired_on__isnull=True)
    if scope.has(Perm.LEDGER_VIEW):
        counts["people"] = (
            Person.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(current).count()
        )
        counts["organisations"] = (
            Organisation.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(current).count()
        )
        counts["buildings"] = (
            Building.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(current).count()
        )
    if scope.has(Perm.THINGS_VIEW):
        counts["things"] = Thing.objects.visible_to(scope, Perm.THINGS_VIEW).filter(current).count()
    return counts


def grid_figures(*, actor: Any) -> dict[str, dict[str, int]]:
    """Per grid the actor sees: current residents, households, people in a care group and
    organisations (the dashboard's map; counts only, no personal field)."""
    from collections import defaultdict

    from django.db.models import Count

    scope = as_scope(actor)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    if not scope.has(Perm.LEDGER_VIEW):
        return {}
    current = Q(retired_on__isnull=True)
    people = (
        Person.objects.visible_to(scope, Perm.LEDGER_VIEW)
        .filter(current)
        .order_by()
        .values("grid_code")
        .annotate(n=Count("id"), care=Count("id", filter=~Q(care_tags="")))
    )
    for row in people:
        out[row["grid_code"]] |= {"residents": row["n"], "care_people": row["care"]}
    for model, key in ((Household, "households"), (Organisation, "organisations")):
        rows = (
            model.objects.visible_to(scope, Perm.LEDGER_VIEW)
            .filter(current)
            .order_by()
            .values("grid_code")
            .annotate(n=Count("id"))
        )
        for row in rows:
            out[row["grid_code"]][key] = row["n"]
    return dict(out)


def audit_names_unscoped(kind: str, ids: list[str]) -> dict[str, str]:
    """What the audit log calls a ledger record by id: a person's masked name (the log's
    reader is not shown personal data), a household's number, an organisation's name …"""
    from wangge.core.audit_words import numeric_ids
    from wangge.core.personal import mask_name

    model, field = {
        "person": (Person, "name"),
        "household": (Household, "code"),
        "organisation": (Organisation, "name"),
        "thing": (Thing, "name"),
        "estate": (Estate, "name"),
        "building": (Building, "address"),
    }[kind]
    rows = model.objects.dangerously_unscoped().filter(pk__in=numeric_ids(ids))
    names = {str(pk): value for pk, value in rows.values_list("pk", field)}
    if kind == "person":
        return {pk: mask_name(name) for pk, name in names.items()}
    return names


# -- merges ------------------------------------------------------------------------------------

MERGE_MODELS: dict[str, Any] = {"person": Person, "organisation": Organisation}


def _merge_records_visible(scope: Scope, merge: RecordMerge) -> dict[int, Any]:
    """The two records of a merge that the actor sees, by id."""
    model = MERGE_MODELS.get(merge.kind)
    if model is None:
        return {}
    return {
        r.pk: r
        for r in model.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(
            pk__in=[merge.survivor_id, merge.merged_id]
        )
    }


def merge_get(*, actor: Any, merge_id: int) -> RecordMerge:
    """One merge, for an actor who sees at least one of its two records (the records decide,
    not where the survivor was when it was merged); NotFound otherwise, as for a missing id."""
    scope = people_visible(actor=actor)
    try:
        merge = RecordMerge.objects.dangerously_unscoped().get(pk=int(merge_id))  # checked below
    except (RecordMerge.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if not _merge_records_visible(scope, merge):
        raise NotFound()
    return merge


def merges_for_record(*, actor: Any, kind: str, record_id: int) -> list[RecordMerge]:
    """The merges a record took part in (as survivor or as the merged one), newest first; the
    record must be one the actor sees (NotFound otherwise)."""
    model = MERGE_MODELS.get(kind)
    if model is None:
        raise NotFound()
    record = access(model.objects, actor, Perm.LEDGER_VIEW, pk=record_id)
    # The record was fetched in scope: its merges are its own history.
    return list(
        RecordMerge.objects.dangerously_unscoped()
        .filter(Q(survivor_id=record.pk) | Q(merged_id=record.pk), kind=kind)
        .order_by("-created_at", "-id")
    )


def merge_abilities(*, actor: Any, merge: RecordMerge) -> dict[str, bool]:
    """What the actor may do with a merge they see: undo it when it stands and the actor may
    edit both records (the rule `unmerge_records` checks)."""
    scope = as_scope(actor)
    visible = _merge_records_visible(scope, merge)
    both = [visible.get(merge.survivor_id), visible.get(merge.merged_id)]
    return {
        "undo": not merge.undone
        and all(r is not None and scope.holds(Perm.LEDGER_EDIT, r.scope_code()) for r in both)
    }


def merge_summary(*, actor: Any, merge: RecordMerge) -> dict[str, Any]:
    """A merge as pages and the API show it: ids, fields filled and in conflict (names), counts
    of what moved — special-group tags only for those who may see them over the survivor."""
    from wangge.ledger.services.merge import RESERVED, households_touched

    scope = as_scope(actor)
    ledger = merge.moves.get(RESERVED, {})
    counts = {
        "households": households_touched(ledger),
        "referrals": len(ledger.get("referrals", [])),
        "care_tags": int(ledger.get("care_tags_added", 0)),
    }
    if scope.holds(Perm.LEDGER_SENSITIVE, merge.grid_code):
        counts["sensitive_tags"] = len(ledger.get("sensitive_tags", []))
    for name, moved in merge.moves.items():
        if name != RESERVED and isinstance(moved, dict):
            for key, value in moved.items():
                if isinstance(value, list):
                    counts[f"{name}.{key}"] = len(value)
    return {
        "id": merge.pk,
        "kind": merge.kind,
        "survivor_id": merge.survivor_id,
        "merged_id": merge.merged_id,
        "reason": merge.reason,
        "filled": list(ledger.get("filled", [])),
        "kept_on_undo": list(ledger.get("kept_on_undo", [])),
        "conflicts": list(merge.conflicts),
        "counts": counts,
        "created_by_name": merge.created_by_name,
        "created_at": merge.created_at,
        "undone_at": merge.undone_at,
        "undone_by_name": merge.undone_by_name,
        "undo_reason": merge.undo_reason,
        "can_undo": merge_abilities(actor=scope, merge=merge)["undo"],
    }


def merge_panel(*, actor: Any, kind: str, record: Any) -> dict[str, Any]:
    """What a record's page shows about merges (the record was fetched in scope): the survivor
    it was merged into (None when the actor does not see it), and its merges with the other
    record (when visible) and whether the actor may undo each."""
    scope = as_scope(actor)
    model = MERGE_MODELS[kind]
    into = None
    if record.merged_into_id is not None:
        into = (
            model.objects.visible_to(scope, Perm.LEDGER_VIEW)
            .filter(pk=record.merged_into_id)
            .first()
        )
    merges = merges_for_record(actor=scope, kind=kind, record_id=record.pk)
    others = {
        r.pk: r
        for r in model.objects.visible_to(scope, Perm.LEDGER_VIEW).filter(
            pk__in={m.merged_id if m.survivor_id == record.pk else m.survivor_id for m in merges}
        )
    }
    rows = []
    for m in merges:
        other_id = m.merged_id if m.survivor_id == record.pk else m.survivor_id
        rows.append(
            {
                "merge": m,
                "survivor": m.survivor_id == record.pk,
                "other_id": other_id,
                "other": others.get(other_id),
                "conflicts": labels(kind, list(m.conflicts)),
                "undo": merge_abilities(actor=scope, merge=m)["undo"],
            }
        )
    return {"merged_into": into, "merged_into_id": record.merged_into_id, "merges": rows}


# -- links from modules above ----------------------------------------------------------------

# A module above the ledger (linkage: where the values came from) offers a link on a record's
# page through this registry (from its AppConfig.ready): the ledger imports none of them.
# Each function gets the actor, the record kind and the record, and returns (label, url) or
# None; it decides with its own selectors.
RecordLink = Callable[[Any, str, Any], "tuple[str, str] | None"]
_RECORD_LINKS: dict[str, RecordLink] = {}


def register_record_link(name: str, fn: RecordLink) -> None:
    _RECORD_LINKS[name] = fn


def record_links(*, actor: Any, kind: str, record: Any) -> list[tuple[str, str]]:
    links = []
    for fn in _RECORD_LINKS.values():
        link = fn(actor, kind, record)
        if link is not None:
            links.append(link)
    return links


def grid_figures_for(actor: Any, code: str) -> list[tuple[str, int, str]]:
    """The grid page's figures from the ledger: residents, households, organisations, things
    (for an actor whose grant covers the grid; nothing otherwise)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    scope = as_scope(actor)
    if not scope.holds(Perm.LEDGER_VIEW, code):
        return []

    def count(model: Any) -> int:
        return int(
            model.objects.visible_to(scope, Perm.LEDGER_VIEW)
            .filter(grid_code=code, retired_on__isnull=True)
            .count()
        )

    people = f"{reverse('ledger:people')}?grid={code}"
    return [
        (_("Residents"), count(Person), people),
        (_("Households"), count(Household), ""),
        (_("Organisations"), count(Organisation), ""),
    ]
