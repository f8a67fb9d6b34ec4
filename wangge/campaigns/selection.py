"""Which records a campaign covers in a grid (the worklist), and the epidemic list.

A template names, per kind, one of the selections below; they are rules in code (what
"rented" means is not configuration), chosen by configuration. Every query here runs under
the scope it is given (the campaign's creator, or the system building the demo): a record
outside it is not selected.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.core.roles import Perm
from wangge.core.scope import Scope
from wangge.ledger.models import (
    CareTag,
    Household,
    Organisation,
    Person,
    Room,
    RoomUse,
    Thing,
    ThingState,
)

# kind → selection name → (label, filter of that kind's current records)
Filter = Callable[[QuerySet[Any]], QuerySet[Any]]
SELECTIONS: dict[str, dict[str, tuple[Any, Filter]]] = {
    "person": {
        "all": (_("Everyone"), lambda qs: qs),
        "tenants": (
            _("People living in rented rooms"),
            lambda qs: qs.filter(room__use=RoomUse.RENTED),
        ),
        "households": (_("Members of the chosen households"), lambda qs: qs),
    },
    "household": {
        "all": (_("Every household"), lambda qs: qs),
        "rented": (_("Households in rented rooms"), lambda qs: qs.filter(room__use=RoomUse.RENTED)),
    },
    "room": {
        "all": (_("Every room"), lambda qs: qs),
        "rented": (_("Rooms rented out"), lambda qs: qs.filter(use=RoomUse.RENTED)),
    },
    "organisation": {
        "all": (_("Every organisation"), lambda qs: qs),
        "key_place": (_("Key places"), lambda qs: qs.exclude(key_tags="")),
    },
    "thing": {
        "all": (_("Every thing"), lambda qs: qs),
        "not_good": (_("Things not in good order"), lambda qs: qs.exclude(state=ThingState.GOOD)),
    },
}

MODELS: dict[str, type[Any]] = {
    "person": Person,
    "household": Household,
    "room": Room,
    "organisation": Organisation,
    "thing": Thing,
}
VIEW_PERM = {"thing": Perm.THINGS_VIEW}


def current(kind: str, scope: Scope) -> QuerySet[Any]:
    model = MODELS[kind]
    return model.objects.visible_to(scope, VIEW_PERM.get(kind, Perm.LEDGER_VIEW)).filter(
        retired_on=None
    )


@dataclass
class Item:
    kind: str
    record_id: int
    grid_code: str
    sort_key: str
    estate_id: int | None = None
    building_id: int | None = None


def _room_key(estate: Any, building: Any, unit: Any, number: Any) -> str:
    return f"{estate or ''}/{building or ''}/{int(unit or 0):02d}/{number or ''}"


def worklist(
    scope: Scope,
    *,
    grid_codes: list[str],
    kinds: list[str],
    selection: dict[str, str],
    households: set[int] | None = None,
) -> dict[str, list[Item]]:
    """Per grid, the records a campaign covers, ordered estate → building → unit → room →
    household → person, then organisations and things. `households` (the epidemic list)
    narrows households and people to those households."""
    out: dict[str, list[Item]] = defaultdict(list)
    if not grid_codes:
        return out
    room_keys: dict[int, tuple[str, int | None, int | None]] = {}
    rooms = current("room", scope).filter(grid_code__in=grid_codes)
    for rid, est_code, est_id, b_code, b_id, unit, number in rooms.values_list(
        "id",
        "building__estate__code",
        "building__estate_id",
        "building__code",
        "building_id",
        "unit",
        "number",
    ):
        room_keys[rid] = (_room_key(est_code, b_code, unit, number), est_id, b_id)

    def placed(room_id: int | None, suffix: str) -> tuple[str, int | None, int | None]:
        key, est, bld = room_keys.get(room_id or 0, ("~", None, None))
        return f"{key}/{suffix}", est, bld

    def pick(kind: str) -> QuerySet[Any]:
        qs = current(kind, scope).filter(grid_code__in=grid_codes)
        name = selection.get(kind, "all")
        return SELECTIONS[kind].get(name, SELECTIONS[kind]["all"])[1](qs)

    if "room" in kinds:
        for rid, grid in pick("room").values_list("id", "grid_code"):
            key, est, bld = placed(rid, "0")
            out[grid].append(Item("room", rid, grid, key, est, bld))
    household_rooms: dict[int, int | None] = {}
    if "household" in kinds:
        qs = pick("household")
        if households is not None:
            qs = qs.filter(pk__in=households)
        for hid, grid, room_id, code in qs.values_list("id", "grid_code", "room_id", "code"):
            household_rooms[hid] = room_id
            key, est, bld = placed(room_id, f"1/{code}")
            out[grid].append(Item("household", hid, grid, key, est, bld))
    if "person" in kinds:
        qs = pick("person")
        if households is not None:
            qs = qs.filter(household_id__in=households)
        for pid, grid, room_id, hid, hcode in qs.values_list(
            "id", "grid_code", "room_id", "household_id", "household__code"
        ):
            key, est, bld = placed(
                room_id or household_rooms.get(hid or 0), f"1/{hcode or '~'}/2/{pid:09d}"
            )
            out[grid].append(Item("person", pid, grid, key, est, bld))
    if "organisation" in kinds:
        for oid, grid, room_id in pick("organisation").values_list("id", "grid_code", "room_id"):
            key, est, bld = placed(room_id, f"3/{oid:09d}")
            out[grid].append(Item("organisation", oid, grid, key, est, bld))
    if "thing" in kinds:
        for tid, grid, code in pick("thing").values_list("id", "grid_code", "code"):
            out[grid].append(Item("thing", tid, grid, f"~/4/{code}"))
    for items in out.values():
        items.sort(key=lambda i: i.sort_key)
    return out


# -- the epidemic list ----------------------------------------------------------------------


class Reason:
    AGED_80 = "aged_80"
    ALONE = "alone"
    CHRONIC = "chronic"
    PREGNANT = "pregnant"
    DISABLED = "disabled"
    INFANT = "infant"
    RECENT = "recent"


REASONS: dict[str, Any] = {
    Reason.AGED_80: _("Aged 80 or over"),
    Reason.ALONE: _("Living alone"),
    Reason.CHRONIC: _("Long-term illness"),
    Reason.PREGNANT: _("Pregnant"),
    Reason.DISABLED: _("Disabled"),
    Reason.INFANT: _("Infant (under 3)"),
    Reason.RECENT: _("Arrived recently"),
}
_TAGS = {
    Reason.CHRONIC: CareTag.CHRONIC,
    Reason.PREGNANT: CareTag.PREGNANT,
    Reason.DISABLED: CareTag.DISABLED,
}


@dataclass
class Priority:
    grid_code: str
    household_id: int | None
    person_id: int
    name: str
    birth_year: int | None
    reasons: list[str] = field(default_factory=list)


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def priority_q(reasons: Iterable[str], *, today: dt.date, recent_days: int) -> dict[str, Q]:
    """One filter per reason; a person matching any is on the list."""
    wanted = set(reasons)
    out: dict[str, Q] = {}
    if Reason.AGED_80 in wanted:
        out[Reason.AGED_80] = Q(birth_date__lte=_years_ago(today, 80))
    if Reason.INFANT in wanted:
        out[Reason.INFANT] = Q(birth_date__gt=_years_ago(today, 3))
    if Reason.ALONE in wanted:
        out[Reason.ALONE] = Q(care_tags__contains=CareTag.ELDERLY_ALONE)
    for reason, tag in _TAGS.items():
        if reason in wanted:
            out[reason] = Q(care_tags__contains=tag)
    if Reason.RECENT in wanted:
        out[Reason.RECENT] = Q(move_in__gte=today - dt.timedelta(days=recent_days))
    return out


def priority_people(
    scope: Scope,
    *,
    grid_codes: list[str],
    reasons: Iterable[str],
    today: dt.date,
    recent_days: int = 14,
) -> list[Priority]:
    """The people who need a visit first, with why, in grid and household order. One query
    (the reasons are computed from the same row) and one for households of one (someone 60+
    living alone, tagged or not), so a district's list is well under a second."""
    filters = priority_q(reasons, today=today, recent_days=recent_days)
    if not filters or not grid_codes:
        return []
    any_q = Q(pk__in=[])
    for q in filters.values():
        any_q |= q
    rows: list[Any] = list(
        current("person", scope)
        .filter(grid_code__in=grid_codes)
        .filter(any_q)
        .values_list(
            "id", "grid_code", "household_id", "name", "birth_date", "care_tags", "move_in"
        )
        .order_by("grid_code", "household_id", "id")
    )
    alone_households = set()
    if Reason.ALONE in filters:
        # A household of one is someone living alone, tagged or not.
        alone_households = set(
            current("person", scope)
            .filter(grid_code__in=grid_codes, household__isnull=False)
            .values("household_id")
            .annotate(n=Count("id"))
            .filter(n=1)
            .values_list("household_id", flat=True)
        )
        solo = (
            current("person", scope)
            .filter(
                grid_code__in=grid_codes,
                household_id__in=alone_households,
                birth_date__lte=_years_ago(today, 60),
            )
            .exclude(any_q)
            .values_list(
                "id", "grid_code", "household_id", "name", "birth_date", "care_tags", "move_in"
            )
        )
        rows += list(solo)
    old = _years_ago(today, 80)
    infant = _years_ago(today, 3)
    recent = today - dt.timedelta(days=recent_days)
    out: list[Priority] = []
    for pid, grid, hid, name, birth, tags, move_in in rows:
        why = []
        if Reason.AGED_80 in filters and birth and birth <= old:
            why.append(Reason.AGED_80)
        if Reason.INFANT in filters and birth and birth > infant:
            why.append(Reason.INFANT)
        if Reason.ALONE in filters and (
            CareTag.ELDERLY_ALONE in (tags or "")
            or (hid in alone_households and birth and birth <= _years_ago(today, 60))
        ):
            why.append(Reason.ALONE)
        for reason, tag in _TAGS.items():
            if reason in filters and tag in (tags or ""):
                why.append(reason)
        if Reason.RECENT in filters and move_in and move_in >= recent:
            why.append(Reason.RECENT)
        if why:
            out.append(Priority(grid, hid, pid, name, birth.year if birth else None, why))
    out.sort(key=lambda p: (p.grid_code, p.household_id or 0, p.person_id))
    return out
