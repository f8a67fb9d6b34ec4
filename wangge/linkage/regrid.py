"""Re-homing linkage's rows, review pairs and provenance when grids are restructured
(`regions.restructure`): each follows the ledger record it concerns, where the ledger placed it
(computed before this module runs). Rows and pairs of no record keep their codes: they sit at
the district (a row nobody could place) or follow a record."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction

from wangge.core.audit import audit_record
from wangge.linkage.models import BatchRow, FieldValue, Pair, PairKind, RecordKind
from wangge.regions.models import common_region
from wangge.regions.restructure import GridPlan, RegridResult, id_batches
from wangge.regions.services import restructure_scope

LEDGER_KIND: dict[str, str] = {
    RecordKind.PEOPLE.value: "person",
    RecordKind.ORGANISATIONS.value: "organisation",
}


def regrid(
    *,
    actor: Any,
    plan: GridPlan,
    placements: dict[tuple[str, int], str],
    apply: bool = False,
) -> RegridResult:
    """Count (dry run) or move (apply) the rows, pairs and values on the plan's old grids to
    the grid the ledger moved their record to."""
    scope = restructure_scope(actor=actor, codes=plan.codes())
    result = RegridResult(module="linkage")
    sources = list(plan.sources)
    moves: dict[str, dict[str, list[int]]] = {
        "row": defaultdict(list),
        "value": defaultdict(list),
        "pair": defaultdict(list),
    }

    def target(kind: str, record_id: int | None) -> str | None:
        if record_id is None:
            return None
        return placements.get((LEDGER_KIND.get(kind, kind), int(record_id)))

    for pk, kind, record_id, grid in (
        BatchRow.objects.dangerously_unscoped()
        .filter(grid_code__in=sources)
        .values_list("pk", "batch__source__kind", "record_id", "grid_code")
    ):
        code = target(kind, record_id)
        if code and code != grid:
            moves["row"][code].append(pk)
            result.count("linkage_row", code)
    for pk, kind, record_id, grid in (
        FieldValue.objects.dangerously_unscoped()
        .filter(grid_code__in=sources)
        .values_list("pk", "record_kind", "record_id", "grid_code")
    ):
        code = target(kind, record_id)
        if code and code != grid:
            moves["value"][code].append(pk)
            result.count("linkage_value", code)
    for pk, pkind, kind, left, record_id, grid in (
        Pair.objects.dangerously_unscoped()
        .filter(grid_code__in=sources)
        .values_list("pk", "kind", "record_kind", "left_id", "record_id", "grid_code")
    ):
        code = target(kind, record_id)
        if pkind == PairKind.DUPLICATE:
            other = target(kind, left)
            if code or other:
                code = common_region([code or grid, other or grid])
        if code and code != grid:
            moves["pair"][code].append(pk)
            result.count("linkage_pair", code)
    if apply and any(moves.values()):
        _apply(scope, plan, moves)
    return result


@transaction.atomic
def _apply(scope: Any, plan: GridPlan, moves: dict[str, dict[str, list[int]]]) -> None:
    models = {"row": BatchRow, "value": FieldValue, "pair": Pair}
    for what, by_target in moves.items():
        for code, pks in by_target.items():
            for batch in id_batches(pks):
                models[what].objects.dangerously_unscoped().filter(pk__in=batch).update(
                    grid_code=code
                )
    audit_record(
        actor=scope,
        action="linkage.regrid",
        object_type="restructure",
        object_id=plan.batch,
        details={w: sum(len(v) for v in m.values()) for w, m in moves.items()},
    )
