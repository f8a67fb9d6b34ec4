"""When two ledger records are merged, the campaign worklists and field edits that name the
merged one move to the survivor (and back when the merge is undone). Registered with the
ledger's merge hooks in CampaignsConfig.ready: the ledger does not import campaigns.

A task that lists both records keeps the survivor's row and leaves the merged record's row
where it is (recorded as skipped): the unique (task, kind, record) says a task lists a
record once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from wangge.campaigns.models import FieldEdit, TaskRecord
from wangge.core.errors import Conflict
from wangge.ledger.models import RecordMerge

HOOK = "campaigns"


def on_merge(merge: RecordMerge) -> dict[str, Any]:
    # Inside merge_records' transaction, after it checked the actor against both records:
    # these rows are references to those records, whichever task they sit in.
    rows = TaskRecord.objects.dangerously_unscoped().filter(
        kind=merge.kind, record_id=merge.merged_id
    )
    taken = set(
        TaskRecord.objects.dangerously_unscoped()
        .filter(kind=merge.kind, record_id=merge.survivor_id)
        .values_list("task_id", flat=True)
    )
    moved: list[int] = []
    skipped: list[int] = []
    for pk, task_id in rows.order_by("pk").values_list("pk", "task_id"):
        (skipped if task_id in taken else moved).append(pk)
    TaskRecord.objects.dangerously_unscoped().filter(pk__in=moved).update(
        record_id=merge.survivor_id
    )
    edits = list(
        FieldEdit.objects.dangerously_unscoped()
        .filter(kind=merge.kind, record_id=merge.merged_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    FieldEdit.objects.dangerously_unscoped().filter(pk__in=edits).update(
        record_id=merge.survivor_id
    )
    return {"task_records": moved, "task_records_skipped": skipped, "field_edits": edits}


def on_unmerge(merge: RecordMerge, moved: dict[str, Any]) -> None:
    rows = TaskRecord.objects.dangerously_unscoped().filter(
        pk__in=moved.get("task_records", []), kind=merge.kind, record_id=merge.survivor_id
    )
    tasks = set(rows.values_list("task_id", flat=True))
    if (
        TaskRecord.objects.dangerously_unscoped()
        .filter(kind=merge.kind, record_id=merge.merged_id, task_id__in=tasks)
        .exists()
    ):
        raise Conflict(
            _(
                "A campaign task lists the merged record again since the merge; "
                "remove it there before undoing the merge."
            ),
            code="campaign_record_taken",
        )
    rows.update(record_id=merge.merged_id)
    FieldEdit.objects.dangerously_unscoped().filter(
        pk__in=moved.get("field_edits", []), kind=merge.kind, record_id=merge.survivor_id
    ).update(record_id=merge.merged_id)


def register() -> None:
    from wangge.ledger.services.merge import register_merge_hook

    register_merge_hook(HOOK, on_merge, on_unmerge)
