"""When two ledger records are merged, the department lists' links and provenance that name
the merged record move to the survivor (and back when the merge is undone); its open review
pairs are closed (a pair against a record that no longer stands is no question), and reopened
on undo. Registered with the ledger's merge hooks in LinkageConfig.ready."""

from __future__ import annotations

from typing import Any

from wangge.ledger.models import RecordMerge
from wangge.linkage.models import BatchRow, FieldValue, Pair, PairStatus, RecordKind
from wangge.linkage.services import recompute_wins

HOOK = "linkage"
KINDS = {"person": RecordKind.PEOPLE, "organisation": RecordKind.ORGANISATIONS}


def on_merge(merge: RecordMerge) -> dict[str, Any]:
    kind = KINDS.get(merge.kind)
    if kind is None:
        return {}
    rows = list(
        BatchRow.objects.dangerously_unscoped()
        .filter(batch__source__kind=kind, record_id=merge.merged_id)
        .values_list("pk", flat=True)
    )
    BatchRow.objects.dangerously_unscoped().filter(pk__in=rows).update(record_id=merge.survivor_id)
    values = list(
        FieldValue.objects.dangerously_unscoped()
        .filter(record_kind=kind, record_id=merge.merged_id)
        .values_list("pk", flat=True)
    )
    FieldValue.objects.dangerously_unscoped().filter(pk__in=values).update(
        record_id=merge.survivor_id
    )
    recompute_wins(kind, sorted({merge.merged_id, merge.survivor_id}))
    pairs = Pair.objects.dangerously_unscoped().filter(
        record_kind=kind, status__in=[PairStatus.OPEN, PairStatus.UNSURE]
    )
    closed = list(pairs.filter(record_id=merge.merged_id).values_list("pk", "status")) + list(
        pairs.filter(left_id=merge.merged_id).values_list("pk", "status")
    )
    Pair.objects.dangerously_unscoped().filter(pk__in=[pk for pk, _s in closed]).update(
        status=PairStatus.CLOSED
    )
    return {"rows": rows, "values": values, "pairs": [[pk, s] for pk, s in closed]}


def on_unmerge(merge: RecordMerge, moved: dict[str, Any]) -> None:
    kind = KINDS.get(merge.kind)
    if kind is None:
        return
    BatchRow.objects.dangerously_unscoped().filter(
        pk__in=moved.get("rows", []), record_id=merge.survivor_id
    ).update(record_id=merge.merged_id)
    FieldValue.objects.dangerously_unscoped().filter(
        pk__in=moved.get("values", []), record_id=merge.survivor_id
    ).update(record_id=merge.merged_id)
    recompute_wins(kind, sorted({merge.merged_id, merge.survivor_id}))
    for pk, status in moved.get("pairs", []):
        Pair.objects.dangerously_unscoped().filter(pk=pk, status=PairStatus.CLOSED).update(
            status=status
        )


def register() -> None:
    from wangge.ledger.services.merge import register_merge_hook

    register_merge_hook(HOOK, on_merge, on_unmerge)
