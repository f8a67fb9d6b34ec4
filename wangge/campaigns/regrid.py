"""Re-homing campaign tasks when grids are restructured (`regions.restructure`).

Only campaigns under way move; finished ones keep their grid codes (history). A task goes to
the grid most of its worklist went to (the ledger's placements, computed before this), unless
a mapping (`task,<id>,<grid>`) says otherwise; records placed elsewhere get a new task of the
same campaign in their grid, with the field edits sent for them. A campaign's chosen regions
name the new codes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.db.models import F

from wangge.campaigns.models import Campaign, CampaignStatus, FieldEdit, Task, TaskRecord
from wangge.core.audit import audit_record
from wangge.regions.models import common_region
from wangge.regions.restructure import GridPlan, RegridResult, Unplaced, id_batches
from wangge.regions.services import restructure_scope

TaskPlan = tuple[Task, str, dict[str, list[tuple[int, str, int]]]]  # task, target, split-offs


def regrid(
    *,
    actor: Any,
    plan: GridPlan,
    placements: dict[tuple[str, int], str],
    apply: bool = False,
) -> RegridResult:
    """Count (dry run) or move (apply) the tasks of open campaigns on the plan's old grids.
    `placements` are the ledger's: (kind, record id) → grid. Needs `regions.restructure` over
    every grid of the plan (NotFound otherwise)."""
    scope = restructure_scope(actor=actor, codes=plan.codes())
    result = RegridResult(module="campaigns")
    tasks = list(
        Task.objects.dangerously_unscoped()
        .filter(grid_code__in=list(plan.sources), campaign__status=CampaignStatus.OPEN)
        .order_by("pk")
    )
    records: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for row in (
        TaskRecord.objects.dangerously_unscoped()
        .filter(task__in=tasks)
        .order_by("pk")
        .values_list("task_id", "pk", "kind", "record_id")
    ):
        records[row[0]].append(row[1:])
    plans: list[TaskPlan] = []
    for task in tasks:
        targets = {t.code for t in plan.targets_of(task.grid_code)}
        placed = {pk: placements.get((kind, record_id)) for pk, kind, record_id in records[task.pk]}
        counts = Counter(t for t in placed.values() if t in targets)
        mapped = plan.mapping.get(("task", str(task.pk)))
        target: str | None
        if mapped in targets or len(targets) == 1:
            target = mapped if mapped in targets else next(iter(targets))
        elif counts:
            target = max(sorted(counts), key=lambda code: counts[code])
        else:
            target = plan.place(task.grid_code, "task", task.pk)
        if target is None:
            result.unplaced.append(Unplaced("task", task.pk, task.title, task.grid_code))
            continue
        split: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
        if len(targets) > 1:
            for pk, kind, record_id in records[task.pk]:
                code = placed[pk]
                if code in targets and code != target:
                    split[code].append((pk, kind, record_id))
        moved_records = len(records[task.pk]) - sum(len(v) for v in split.values())
        if target != task.grid_code:
            result.count("task", target)
            result.count("task_record", target, moved_records)
        for code, rows in split.items():
            result.count("task", code)
            result.count("task_record", code, len(rows))
        if target != task.grid_code or split:
            plans.append((task, target, dict(split)))
    if apply:
        _apply(scope, plan, plans)
    return result


@transaction.atomic
def _apply(scope: Any, plan: GridPlan, plans: list[TaskPlan]) -> None:
    names = {t.code: t.name for ts in plan.sources.values() for t in ts}
    done: dict[str, Any] = {}
    campaigns: set[int] = set()
    for task, target, split in plans:
        campaigns.add(task.campaign_id)
        new_tasks = {}
        for code, rows in sorted(split.items()):
            part = Task.objects.create(
                campaign_id=task.campaign_id,
                grid_code=code,
                title=names.get(code, code)[:200],
                state=task.state,
                team_assigned=task.team_assigned,
            )
            new_tasks[code] = part.pk
            for batch in id_batches([pk for pk, _k, _r in rows]):
                TaskRecord.objects.dangerously_unscoped().filter(pk__in=batch).update(
                    task=part, grid_code=code
                )
            for kind in sorted({k for _pk, k, _r in rows}):
                for batch in id_batches([r for _p, k, r in rows if k == kind]):
                    FieldEdit.objects.dangerously_unscoped().filter(
                        task=task, kind=kind, record_id__in=batch
                    ).update(task=part, grid_code=code)
        if target != task.grid_code:
            Task.objects.dangerously_unscoped().filter(pk=task.pk).update(
                grid_code=target, version=F("version") + 1
            )
            TaskRecord.objects.dangerously_unscoped().filter(task=task).update(grid_code=target)
            FieldEdit.objects.dangerously_unscoped().filter(task=task).update(grid_code=target)
        done[str(task.pk)] = {"grid": target, "new_tasks": new_tasks}
    for campaign in Campaign.objects.dangerously_unscoped().filter(pk__in=campaigns).order_by("pk"):
        chosen: list[str] = []
        for code in campaign.regions:
            replacing = [t.code for t in plan.targets_of(code)] or [code]
            chosen.extend(c for c in replacing if c not in chosen)
        if chosen != campaign.regions:
            campaign.regions = chosen
            campaign.region_code = common_region(chosen) or campaign.region_code
            campaign.save(update_fields=["regions", "region_code"])
    audit_record(
        actor=scope,
        action="campaigns.regrid",
        object_type="restructure",
        object_id=plan.batch,
        details={"operation": plan.operation, "tasks": done},
    )
