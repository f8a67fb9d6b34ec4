"""When two ledger records are merged, what the department lists say about the merged record
moves to the survivor (and back when the merge is undone): the rows linked to it and their
provenance (to the survivor's grid), and the open review pairs against it (a row that might
have been the merged person now might be the survivor). Open duplicate pairs naming the merged
record are closed: it no longer stands. Registered with the ledger's merge hooks in
LinkageConfig.ready."""

from __future__ import annotations

from typing import Any

from wangge.ledger.models import Organisation, Person, RecordMerge
from wangge.linkage.models import (
    BatchRow,
    FieldValue,
    Pair,
    PairKind,
    PairStatus,
    RecordKind,
)
from wangge.linkage.services import recompute_wins

HOOK = "linkage"
KINDS = {"person": RecordKind.PEOPLE, "organisation": RecordKind.ORGANISATIONS}
OPEN = [PairStatus.OPEN, PairStatus.UNSURE]


def _grid(merge: RecordMerge) -> str:
    model: Any = Person if merge.kind == "person" else Organisation
    return str(
        model.objects.dangerously_unscoped()
        .filter(pk=merge.survivor_id)
        .values_list("grid_code", flat=True)
        .first()
        or ""
    )


def on_merge(merge: RecordMerge) -> dict[str, Any]:
    kind = KINDS.get(merge.kind)
    if kind is None:
        return {}
    grid = _grid(merge)
    moved: dict[str, Any] = {}
    for name, qs in (
        (
            "rows",
            BatchRow.objects.dangerously_unscoped().filter(
                batch__source__kind=kind, record_id=merge.merged_id
            ),
        ),
        (
            "values",
            FieldValue.objects.dangerously_unscoped().filter(
                record_kind=kind, record_id=merge.merged_id
            ),
        ),
    ):
        moved[name] = [[pk, g] for pk, g in qs.values_list("pk", "grid_code")]
        qs.model.objects.dangerously_unscoped().filter(
            pk__in=[pk for pk, _g in moved[name]]
        ).update(record_id=merge.survivor_id, grid_code=grid)
    recompute_wins(kind, sorted({merge.merged_id, merge.survivor_id}))
    pairs = Pair.objects.dangerously_unscoped().filter(record_kind=kind, status__in=OPEN)
    batch_pairs = pairs.filter(kind=PairKind.BATCH, record_id=merge.merged_id)
    # A row with pairs against both records keeps the survivor's; the merged one's closes.
    taken = set(
        pairs.filter(kind=PairKind.BATCH, record_id=merge.survivor_id).values_list(
            "batch_row_id", flat=True
        )
    )
    repointed: list[list[Any]] = []
    closed: list[list[Any]] = []
    for pk, row_id, status in batch_pairs.values_list("pk", "batch_row_id", "status"):
        (closed if row_id in taken else repointed).append([pk, status])
    Pair.objects.dangerously_unscoped().filter(pk__in=[pk for pk, _s in repointed]).update(
        record_id=merge.survivor_id
    )
    duplicates = pairs.filter(kind=PairKind.DUPLICATE).filter(
        record_id=merge.merged_id
    ) | pairs.filter(kind=PairKind.DUPLICATE, left_id=merge.merged_id)
    closed += [[pk, s] for pk, s in duplicates.values_list("pk", "status")]
    Pair.objects.dangerously_unscoped().filter(pk__in=[pk for pk, _s in closed]).update(
        status=PairStatus.CLOSED
    )
    moved["pairs_repointed"] = repointed
    moved["pairs_closed"] = closed
    return moved


def on_unmerge(merge: RecordMerge, moved: dict[str, Any]) -> None:
    kind = KINDS.get(merge.kind)
    if kind is None:
        return
    for name, model in (("rows", BatchRow), ("values", FieldValue)):
        for pk, grid in moved.get(name, []):
            model.objects.dangerously_unscoped().filter(pk=pk, record_id=merge.survivor_id).update(
                record_id=merge.merged_id, grid_code=grid
            )
    recompute_wins(kind, sorted({merge.merged_id, merge.survivor_id}))
    Pair.objects.dangerously_unscoped().filter(
        pk__in=[pk for pk, _s in moved.get("pairs_repointed", [])], record_id=merge.survivor_id
    ).update(record_id=merge.merged_id)
    for pk, status in moved.get("pairs_closed", []):
        Pair.objects.dangerously_unscoped().filter(pk=pk, status=PairStatus.CLOSED).update(
            status=status
        )


def register() -> None:
    from wangge.ledger.services.merge import register_merge_hook

    register_merge_hook(HOOK, on_merge, on_unmerge)
