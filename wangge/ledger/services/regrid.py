"""Re-homing the ledger's records when grids are restructured (`regions.restructure`).

Each current (not retired) record of an old grid goes where the plan places it: its location
where it has one — a building's point; a room, household or person through their building; an
organisation's or thing's own point (or its room's building) — else an explicit mapping, the
only target or the default grid. Retired records keep the code they had: they are history,
like closed events. A moved record's version rises and its change log says `regrid`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wangge.core.audit import audit_record
from wangge.ledger.models import (
    Building,
    Estate,
    Household,
    LedgerChange,
    LedgerRecord,
    Organisation,
    Person,
    Room,
    SensitiveTag,
    Thing,
)
from wangge.regions.restructure import GridPlan, RegridResult, Unplaced, id_batches
from wangge.regions.services import restructure_scope

Point = tuple[float, float] | None


def _first(*points: Any) -> Point:
    for lon, lat in points:
        if lon is not None and lat is not None:
            return (float(lon), float(lat))
    return None


# kind → (model, the columns read, row → (label, point)); in the order they are placed.
KINDS: list[
    tuple[str, type[LedgerRecord], list[str], Callable[[tuple[Any, ...]], tuple[str, Point]]]
] = [
    ("estate", Estate, ["code", "name"], lambda r: (f"{r[1]} {r[2]}", None)),
    (
        "building",
        Building,
        ["code", "address", "lon", "lat"],
        lambda r: (f"{r[1]} {r[2]}", _first((r[3], r[4]))),
    ),
    (
        "room",
        Room,
        ["code", "building__lon", "building__lat"],
        lambda r: (r[1], _first((r[2], r[3]))),
    ),
    (
        "household",
        Household,
        [
            "code",
            "room__building__lon",
            "room__building__lat",
            "head__room__building__lon",
            "head__room__building__lat",
        ],
        lambda r: (r[1], _first((r[2], r[3]), (r[4], r[5]))),
    ),
    (
        "person",
        Person,
        [
            "name",
            "room__building__lon",
            "room__building__lat",
            "household__room__building__lon",
            "household__room__building__lat",
        ],
        lambda r: (r[1], _first((r[2], r[3]), (r[4], r[5]))),
    ),
    (
        "organisation",
        Organisation,
        ["name", "lon", "lat", "room__building__lon", "room__building__lat"],
        lambda r: (r[1], _first((r[2], r[3]), (r[4], r[5]))),
    ),
    (
        "thing",
        Thing,
        ["code", "name", "lon", "lat"],
        lambda r: (f"{r[1]} {r[2]}", _first((r[3], r[4]))),
    ),
]


def regrid(*, actor: Any, plan: GridPlan, apply: bool = False) -> RegridResult:
    """Count (dry run) or move (apply) the ledger records of the plan's old grids. An estate
    without a location goes where most of its buildings go. Needs `regions.restructure` over
    every grid of the plan (NotFound otherwise)."""
    scope = restructure_scope(actor=actor, codes=plan.codes())
    result = RegridResult(module="ledger")
    moves: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kind, model, columns, describe in KINDS:
        for source in sorted(plan.sources):
            rows = list(
                model.objects.dangerously_unscoped()
                .filter(grid_code=source, retired_on=None)
                .order_by("pk")
                .values_list("pk", *columns)
            )
            described = [describe(r) for r in rows]
            placed = plan.place_many(
                source,
                kind,
                [(r[0], point) for r, (_label, point) in zip(rows, described, strict=True)],
            )
            if kind == "estate":
                placed = _estates_by_buildings(plan, source, rows, placed)
            for row, (label, _point), target in zip(rows, described, placed, strict=True):
                if target is None:
                    result.unplaced.append(Unplaced(kind, row[0], label, source))
                    continue
                result.placements[(kind, row[0])] = target
                if target != source:
                    moves[(kind, target)].append(row[0])
                    result.count(kind, target)
    if apply:
        _apply(scope, plan, moves)
    return result


def _estates_by_buildings(
    plan: GridPlan,
    source: str,
    rows: list[tuple[Any, ...]],
    placed: list[str | None],
) -> list[str | None]:
    """An estate has no point of its own: unless mapped (or there is one target) it goes where
    most of its current buildings go."""
    if len(plan.targets_of(source)) == 1 or not rows:
        return placed
    buildings = list(
        Building.objects.dangerously_unscoped()
        .filter(estate_id__in=[row[0] for row in rows], retired_on=None)
        .order_by("pk")
        .values_list("pk", "estate_id", "lon", "lat")
    )
    targets = plan.place_many(
        source, "building", [(pk, (lon, lat)) for pk, _estate, lon, lat in buildings]
    )
    by_estate: dict[int, list[str]] = defaultdict(list)
    for (_pk, estate, _lon, _lat), target in zip(buildings, targets, strict=True):
        if target:
            by_estate[estate].append(target)
    out = list(placed)
    for i, row in enumerate(rows):
        found = by_estate.get(row[0])
        if found and ("estate", str(row[0])) not in plan.mapping:
            out[i] = max(sorted(set(found)), key=found.count)
    return out


@transaction.atomic
def _apply(scope: Any, plan: GridPlan, moves: dict[tuple[str, str], list[int]]) -> None:
    now = timezone.now()
    models = {kind: model for kind, model, _c, _d in KINDS}
    changes = []
    moved: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for (kind, target), ids in sorted(moves.items()):
        model = models[kind]
        values: dict[str, Any] = {"grid_code": target, "version": F("version") + 1}
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            values["updated_at"] = now
        rows = model.objects.dangerously_unscoped()
        for batch in id_batches(ids):
            rows.filter(pk__in=batch).update(**values)
            if kind == "person":
                SensitiveTag.objects.dangerously_unscoped().filter(person_id__in=batch).update(
                    grid_code=target
                )
            for pk, version in rows.filter(pk__in=batch).values_list("pk", "version"):
                changes.append(
                    LedgerChange(
                        kind=kind,
                        record_id=pk,
                        version=version,
                        action="regrid",
                        fields=["grid_code"],
                        grid_code=target,
                        actor_id=scope.user_id,
                        actor_name=scope.username,
                        at=now,
                    )
                )
        moved[kind][target] = sorted(ids)
    LedgerChange.objects.bulk_create(changes, batch_size=1000)
    audit_record(
        actor=scope,
        action="ledger.regrid",
        object_type="restructure",
        object_id=plan.batch,
        details={"operation": plan.operation, "moved": moved},
    )
