"""Reads of campaigns, always through the actor: lists, a task and its worklist, my tasks,
the package, progress, quality, conflicts, the epidemic list, and what a page may offer
(`campaign_abilities`, `task_abilities`: the rules the services enforce)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Substr
from django.utils import timezone

from wangge.campaigns import package, quality, selection, services
from wangge.campaigns.models import (
    DONE_STATUSES,
    OPEN_STATES,
    Campaign,
    CampaignStatus,
    EditStatus,
    FieldEdit,
    Kind,
    Outcome,
    QualitySnapshot,
    RecordStatus,
    Task,
    TaskAction,
    TaskAssignee,
    TaskRecord,
    TaskState,
    Template,
)
from wangge.core.errors import NotFound
from wangge.core.models import User
from wangge.core.personal import mask_id_number, mask_phone
from wangge.core.roles import Perm
from wangge.core.scope import Scope, as_scope, require_any
from wangge.events.calendar import Calendar
from wangge.regions.models import Region
from wangge.regions.selectors import region_names_unscoped

LEVELS = {"street": 9, "community": 12, "grid": 15}


def _named_task_ids(scope: Scope) -> list[int]:
    if scope.user_id is None:
        return []
    return list(
        TaskAssignee.objects.dangerously_unscoped()
        .filter(user_id=scope.user_id)
        .values_list("task_id", flat=True)
    )


def templates() -> list[Template]:
    return list(Template.objects.all())


def campaign_list(*, actor: Any) -> list[Campaign]:
    """Campaigns over the actor's regions, and those they are named on a task of."""
    scope = as_scope(actor)
    named = _named_task_ids(scope)
    ids: set[int] = set()
    if scope.has(Perm.CAMPAIGNS_VIEW):
        ids |= set(
            Campaign.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW).values_list("id", flat=True)
        )
        # A grid worker sees the campaigns that have a task in their grids.
        ids |= set(
            Task.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
            .values_list("campaign_id", flat=True)
            .distinct()
        )
    if named:
        ids |= set(
            Task.objects.dangerously_unscoped()
            .filter(pk__in=named)
            .values_list("campaign_id", flat=True)
        )
    if not ids and not scope.has(Perm.CAMPAIGNS_VIEW):
        raise NotFound()
    return list(
        Campaign.objects.dangerously_unscoped()
        .filter(pk__in=ids)
        .select_related("template")
        .order_by("-start", "-id")
    )


def campaign_get(*, actor: Any, campaign_id: Any) -> Campaign:
    scope = as_scope(actor)
    try:
        pk = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    campaign = (
        Campaign.objects.dangerously_unscoped().select_related("template").filter(pk=pk).first()
    )
    if campaign is None:
        raise NotFound()
    if scope.is_system or scope.holds_for(Perm.CAMPAIGNS_VIEW, campaign):
        return campaign
    if Task.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW).filter(campaign=campaign).exists():
        return campaign
    if (
        Task.objects.dangerously_unscoped()
        .filter(campaign=campaign, pk__in=_named_task_ids(scope))
        .exists()
    ):
        return campaign
    raise NotFound()


def _tasks_for(scope: Scope, campaign: Campaign) -> QuerySet[Task]:
    named = _named_task_ids(scope)
    visible = (
        set(
            Task.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
            .filter(campaign=campaign)
            .values_list("id", flat=True)
        )
        if scope.has(Perm.CAMPAIGNS_VIEW)
        else set()
    )
    if scope.is_system:
        return Task.objects.dangerously_unscoped().filter(campaign=campaign)
    return Task.objects.dangerously_unscoped().filter(
        Q(pk__in=visible) | Q(pk__in=named, campaign=campaign)
    )


def campaign_task_count(*, campaign: Campaign) -> int:
    """The grids' tasks of a campaign just made (its parts not counted): what creating it
    reports (`{"id", "tasks": N}`)."""
    return Task.objects.dangerously_unscoped().filter(campaign=campaign, parent=None).count()


def campaign_tasks(*, actor: Any, campaign: Campaign, state: str = "", q: str = "") -> list[Task]:
    scope = as_scope(actor)
    qs = _tasks_for(scope, campaign).select_related("held_by")
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(grid_code__startswith=q))
    return list(qs.order_by("grid_code", "id"))


def task_get(*, actor: Any, task_id: Any) -> Task:
    return services._visible_task(actor, task_id)


def task_records(*, actor: Any, task: Task, status: str = "") -> list[dict[str, Any]]:
    """The worklist of a task the actor sees, with each record's title (names, masked)."""
    services._visible_task(actor, task.pk)
    data = package.build(task, as_scope(actor))
    rows = data["records"]
    if status:
        rows = [r for r in rows if r["status"] == status]
    return rows


def task_package(*, actor: Any, task_id: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """The package to work the task offline: only for who may work it."""
    task, work = services.task_for_work(actor, task_id, now=now)
    return package.build(task, work)


def task_history(*, actor: Any, task: Task) -> list[TaskAction]:
    services._visible_task(actor, task.pk)
    return list(TaskAction.objects.dangerously_unscoped().filter(task=task).order_by("at", "id"))


def task_assignees(*, actor: Any, task: Task) -> list[TaskAssignee]:
    services._visible_task(actor, task.pk)
    return list(
        TaskAssignee.objects.dangerously_unscoped().filter(task=task).select_related("user")
    )


@dataclass
class MyTask:
    task: Task
    left: int
    total: int
    conflicts: int
    role: str


def my_tasks(*, actor: Any, include_done: bool = False) -> list[MyTask]:
    """The tasks the actor works on: named on them, or their team's (collect over the grid),
    or held by them; what is left and what came back."""
    scope = as_scope(actor)
    if scope.user_id is None:
        raise NotFound()
    named = dict(
        TaskAssignee.objects.dangerously_unscoped()
        .filter(user_id=scope.user_id)
        .values_list("task_id", "role")
    )
    ids = set(named)
    if scope.has(Perm.CAMPAIGNS_COLLECT):
        team = Task.objects.visible_to(scope, Perm.CAMPAIGNS_COLLECT).filter(
            Q(team_assigned=True) | Q(held_by_id=scope.user_id)
        )
        # Only the grids the actor works in (a grant at grid level), not a community's all.
        grids = [
            g.region_code
            for g in scope.grants_for(Perm.CAMPAIGNS_COLLECT)
            if len(g.region_code) == 15
        ]
        ids |= set(team.filter(grid_code__in=grids).values_list("id", flat=True))
        ids |= set(team.filter(held_by_id=scope.user_id).values_list("id", flat=True))
    qs = (
        Task.objects.dangerously_unscoped()
        .filter(pk__in=ids, campaign__status="open")
        .select_related("campaign")
    )
    if not include_done:
        qs = qs.filter(state__in=[*OPEN_STATES, TaskState.SUBMITTED])
    tasks = list(
        qs.filter(parts__isnull=True).order_by("campaign__end", "grid_code", "id").distinct()
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for task_id, status, n in (
        TaskRecord.objects.dangerously_unscoped()
        .filter(task_id__in=[t.pk for t in tasks])
        .values_list("task_id", "status")
        .annotate(n=Count("id"))
    ):
        counts[task_id][status] += n
    out = []
    for t in tasks:
        c = counts[t.pk]
        out.append(
            MyTask(
                task=t,
                left=c[RecordStatus.PENDING],
                total=sum(c.values()),
                conflicts=c[RecordStatus.CONFLICT],
                role=named.get(t.pk, "team"),
            )
        )
    return out


def open_tasks(*, actor: Any) -> list[Task]:
    """Tasks nobody was assigned that the actor could take (or holds)."""
    scope = require_any(actor, Perm.CAMPAIGNS_COLLECT)
    return list(
        Task.objects.visible_to(scope, Perm.CAMPAIGNS_COLLECT)
        .filter(team_assigned=False, state__in=OPEN_STATES, campaign__status="open")
        .select_related("campaign", "held_by")
        .order_by("grid_code")
    )


# -- progress ---------------------------------------------------------------------------------


def _blank_records() -> dict[str, int]:
    return {
        "total": 0,
        "verified": 0,
        "confirmed": 0,
        "corrected": 0,
        "added": 0,
        "retired": 0,
        "conflict": 0,
    }


def _fold(target: dict[str, int], status: str, n: int) -> None:
    target["total"] += n
    if status in DONE_STATUSES:
        target["verified"] += n
    if status in target and status != "total":
        target[status] += n


def progress(
    *, actor: Any, campaign: Campaign, level: str = "", today: dt.date | None = None
) -> dict[str, Any]:
    """Progress of a campaign over the grids the actor sees.

    {"tasks": N, "by_state": {state: n}, "records": {kind: {"total", "verified",
    "confirmed", "corrected", "added", "retired", "conflict"}}, "households": {outcome: n},
    "conflicts": n, "days_left": d, "rows": [...]} — `verified` counts every record checked
    (confirmed, corrected, retired or added); with `level` (street, community, grid) one row
    per region of that level with the same counts."""
    scope = as_scope(actor)
    campaign_get(actor=scope, campaign_id=campaign.pk)
    today = today or timezone.localdate()
    length = LEVELS.get(level, 0)
    tasks = _tasks_for(scope, campaign).filter(parts__isnull=True)
    # Grouped in the database by the level's region (a prefix of the grid code), or not at
    # all for the totals: a city's 5M records are a few hundred rows, not one per grid.
    region: Any = Substr("grid_code", 1, length) if length else Value("")
    task_rows = list(
        tasks.annotate(region=region)
        .values_list("region", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    records = TaskRecord.objects.dangerously_unscoped().filter(campaign_id_copy=campaign.pk)
    conflicts = FieldEdit.objects.dangerously_unscoped().filter(
        task__campaign=campaign, status=EditStatus.CONFLICT
    )
    if not (scope.is_system or scope.holds_for(Perm.CAMPAIGNS_VIEW, campaign)):
        # Part of the campaign only: the grids of the tasks the actor sees.
        grids = set(tasks.values_list("grid_code", flat=True))
        records = records.filter(grid_code__in=grids)
        conflicts = conflicts.filter(grid_code__in=grids)
    records = (
        records.annotate(region=region)
        .values_list("region", "kind", "status", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    conflicts = (
        conflicts.annotate(region=region).values_list("region").annotate(n=Count("id")).order_by()
    )

    def blank() -> dict[str, Any]:
        return {
            "tasks": 0,
            "by_state": dict.fromkeys(TaskState.values, 0),
            "records": {k: _blank_records() for k in campaign.kinds},
            "households": dict.fromkeys(Outcome.values, 0),
            "conflicts": 0,
        }

    total = blank()
    rows: dict[str, dict[str, Any]] = defaultdict(blank)
    targets = (lambda code: [total, rows[code]]) if length else (lambda code: [total])
    for grid, state, n in task_rows:
        for t in targets(grid):
            t["tasks"] += n
            t["by_state"][state] += n
    for grid, kind, status, outcome, n in records:
        for t in targets(grid):
            _fold(t["records"].setdefault(kind, _blank_records()), status, n)
            if kind == Kind.HOUSEHOLD and outcome:
                t["households"][outcome] += n
    for grid, n in conflicts:
        for t in targets(grid):
            t["conflicts"] += n
    total["days_left"] = max((campaign.end - today).days, 0)
    if length:
        names = region_names_unscoped()
        total["rows"] = [
            {"code": code, "name": names.get(code, code), **row}
            for code, row in sorted(rows.items())
        ]
    return total


def progress_by_person(*, actor: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """Per person: edits sent by op, records checked."""
    scope = as_scope(actor)
    campaign_get(actor=scope, campaign_id=campaign.pk)
    grids = set(_tasks_for(scope, campaign).values_list("grid_code", flat=True))
    per: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"edits": 0, "checked": 0, "by_op": defaultdict(int)}
    )
    for actor_id, op, n in (
        FieldEdit.objects.dangerously_unscoped()
        .filter(
            task__campaign=campaign,
            grid_code__in=grids,
            status__in=[EditStatus.APPLIED, EditStatus.RESOLVED, EditStatus.CONFLICT],
        )
        .values_list("actor_id", "op")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if actor_id is None:
            continue
        per[actor_id]["edits"] += n
        per[actor_id]["by_op"][op] += n
    for user_id, n in (
        TaskRecord.objects.dangerously_unscoped()
        .filter(campaign_id_copy=campaign.pk, grid_code__in=grids)
        .exclude(checked_by=None)
        .values_list("checked_by")
        .annotate(n=Count("id"))
        .order_by()
    ):
        per[user_id]["checked"] += n
    users = {u.pk: u for u in User.objects.filter(pk__in=list(per))}
    return sorted(
        (
            {
                "user": str(users[uid]) if uid in users else "",
                "user_id": uid,
                "edits": v["edits"],
                "checked": v["checked"],
                "by_op": dict(v["by_op"]),
            }
            for uid, v in per.items()
        ),
        key=lambda r: (-r["checked"], r["user"]),
    )


def quality_report(*, actor: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """Per grid and kind: the snapshot taken when the campaign opened beside the ledger now."""
    scope = as_scope(actor)
    campaign_get(actor=scope, campaign_id=campaign.pk)
    grids = sorted(set(_tasks_for(scope, campaign).values_list("grid_code", flat=True)))
    before = {
        (s.grid_code, s.kind): s.counts
        for s in QualitySnapshot.objects.dangerously_unscoped().filter(
            campaign=campaign, grid_code__in=grids
        )
    }
    from wangge.core.scope import Scope as _Scope

    now = quality.measure(
        _Scope.system("campaign-quality"),
        grid_codes=grids,
        kinds=campaign.kinds,
        fields=campaign.spec.get("fields", {}),
        today=timezone.localdate(),
    )
    names = region_names_unscoped()
    out = []
    for grid in grids:
        for kind in campaign.kinds:
            b = before.get((grid, kind), dict.fromkeys(quality.MEASURES, 0))
            n = now.get((grid, kind), dict.fromkeys(quality.MEASURES, 0))
            out.append(
                {
                    "grid_code": grid,
                    "grid": names.get(grid, grid),
                    "kind": kind,
                    "before": b,
                    "now": n,
                }
            )
    return out


# -- conflicts ------------------------------------------------------------------------------


def _masked(key: str, value: Any) -> Any:
    if value in (None, ""):
        return value
    if key == "id_number":
        return mask_id_number(str(value))
    if key == "phone":
        return mask_phone(str(value))
    if key == "birth_date":
        return str(value)[:4]
    return value


def conflicts(*, actor: Any, task: Task) -> list[dict[str, Any]]:
    """The task's conflicting edits, each with the field's values and the ledger's now, side
    by side (personal values masked), for the reviewer."""
    services._visible_task(actor, task.pk)
    out = []
    from wangge.campaigns.selection import MODELS

    for e in (
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task, status=EditStatus.CONFLICT)
        .select_related("actor")
    ):
        values = json.loads(e.values or "{}")
        fields = values.get("fields") or {}
        record = MODELS[e.kind].objects.dangerously_unscoped().filter(pk=e.record_id).first()
        rows = []
        for key in sorted(set(fields) | set(e.conflict_fields)):
            current = getattr(record, key, None) if record is not None else None
            rows.append(
                {
                    "field": key,
                    "field_value": _masked(key, fields.get(key)),
                    "ledger_value": _masked(key, current),
                }
            )
        out.append(
            {
                "id": e.pk,
                "op": e.op,
                "kind": e.kind,
                "record_id": e.record_id,
                "title": getattr(record, "name", "") or str(record or ""),
                "by": str(e.actor or ""),
                "made_at": e.made_at,
                "base_version": e.base_version,
                "current_version": getattr(record, "version", None),
                "changed_since": e.conflict_fields,
                "rows": rows,
                "retire": {k: values.get(k) for k in ("reason", "on", "note") if values.get(k)},
            }
        )
    return out


# -- the epidemic list ------------------------------------------------------------------------


def priority_list(
    *,
    actor: Any,
    regions: list[str],
    reasons: list[str],
    recent_days: int = 14,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Per grid, the people who need a visit first and their households (names, birth year,
    why), for a street officer starting a 入户走访排查."""
    scope = require_any(actor, Perm.CAMPAIGNS_MANAGE)
    from wangge.regions.selectors import grids_under

    grids = grids_under(actor=scope, codes=regions, perm=Perm.CAMPAIGNS_MANAGE)
    people = selection.priority_people(
        scope,
        grid_codes=[g.code for g in grids],
        reasons=reasons,
        today=today or timezone.localdate(),
        recent_days=recent_days,
    )
    by_grid: dict[str, list[selection.Priority]] = defaultdict(list)
    for p in people:
        by_grid[p.grid_code].append(p)
    names = {g.code: g.name for g in grids}
    return {
        "grids": [
            {
                "code": code,
                "name": names.get(code, code),
                "people": items,
                "households": len({p.household_id for p in items if p.household_id}),
            }
            for code, items in sorted(by_grid.items())
        ],
        "people": len(people),
        "households": len({p.household_id for p in people if p.household_id}),
    }


# -- abilities ------------------------------------------------------------------------------


def campaigns_abilities(*, actor: Any) -> dict[str, bool]:
    scope = as_scope(actor)
    return {
        "view": scope.has(Perm.CAMPAIGNS_VIEW) or bool(_named_task_ids(scope)),
        "manage": scope.has(Perm.CAMPAIGNS_MANAGE),
        "collect": scope.has(Perm.CAMPAIGNS_COLLECT) or bool(_named_task_ids(scope)),
    }


def task_abilities(*, actor: Any, task: Task) -> dict[str, Any]:
    """What the task page may offer: computed by the services' own rules."""
    scope = as_scope(actor)
    work = services.task_actor(scope, task)
    state = task.state
    level = (
        "community"
        if state == TaskState.SUBMITTED
        else "street"
        if state == TaskState.REVIEWED
        else ""
    )
    refusal = services.review_refusal(scope, task, level=level) if level else None
    return {
        "work": work is not None and state in OPEN_STATES,
        "submit": work is not None and state in OPEN_STATES,
        "take": (not task.team_assigned)
        and state in OPEN_STATES
        and scope.holds(Perm.CAMPAIGNS_COLLECT, task.grid_code),
        "review": bool(level) and refusal is None,
        "review_refusal": refusal or "",
        "manage": scope.holds(Perm.CAMPAIGNS_MANAGE, task.grid_code),
        "resolve": services.review_refusal(scope, task, level="community") is None,
    }


def campaign_abilities(*, actor: Any, campaign: Campaign) -> dict[str, bool]:
    """What the campaign page may offer: closing it needs `campaigns.manage` over its region
    (the rule `services.campaign_close` enforces)."""
    scope = as_scope(actor)
    manage = scope.is_system or scope.holds_for(Perm.CAMPAIGNS_MANAGE, campaign)
    return {"manage": manage, "close": manage and campaign.status == "open"}


# -- pages' helpers ---------------------------------------------------------------------------


def manageable_regions(*, actor: Any) -> list[dict[str, Any]]:
    """The streets, communities and grids the actor may start a campaign in, in code order
    with their names and level (for the new-campaign pickers): one query for the grids."""
    scope = require_any(actor, Perm.CAMPAIGNS_MANAGE)
    from wangge.regions.selectors import grids_under

    roots = scope.roots(Perm.CAMPAIGNS_MANAGE) if not scope.is_system else [""]
    grids = grids_under(actor=scope, codes=roots or [""], perm=Perm.CAMPAIGNS_MANAGE)
    names = region_names_unscoped()
    # Only what lies inside a grant: a community officer does not pick the whole street.
    inside = {
        code
        for g in grids
        for code in (g.code[:9], g.code[:12], g.code)
        if any(code.startswith(r) for r in roots)
    }
    level = {9: "street", 12: "community", 15: "grid"}
    return [
        {"code": c, "name": names.get(c, c), "level": level.get(len(c), ""), "depth": len(c)}
        for c in sorted(inside)
    ]


def campaign_summaries(*, actor: Any, campaigns: list[Campaign]) -> dict[int, dict[str, Any]]:
    """Per campaign of a list: records verified / total, tasks by state and its regions'
    names, over the tasks the actor sees — two aggregate queries for the whole list."""
    scope = as_scope(actor)
    ids = [c.pk for c in campaigns]
    out: dict[int, dict[str, Any]] = {
        c.pk: {
            "tasks": 0,
            "by_state": dict.fromkeys(TaskState.values, 0),
            "total": 0,
            "verified": 0,
            "percent": 0,
        }
        for c in campaigns
    }
    if not ids:
        return out
    named = _named_task_ids(scope)
    tasks = Task.objects.dangerously_unscoped().filter(campaign_id__in=ids)
    if not scope.is_system:
        visible = (
            Task.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW).values("pk")
            if scope.has(Perm.CAMPAIGNS_VIEW)
            else Task.objects.none().values("pk")
        )
        tasks = tasks.filter(Q(pk__in=visible) | Q(pk__in=named))
    for campaign_id, state, n in (
        tasks.filter(parts__isnull=True)
        .values_list("campaign_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        out[campaign_id]["tasks"] += n
        out[campaign_id]["by_state"][state] += n
    for campaign_id, status, n in (
        TaskRecord.objects.dangerously_unscoped()
        .filter(campaign_id_copy__in=ids, task_id__in=tasks.values("pk"))
        .values_list("campaign_id_copy", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        row = out[campaign_id]
        row["total"] += n
        if status in DONE_STATUSES:
            row["verified"] += n
    names = region_names_unscoped()
    calendar = Calendar()
    for c in campaigns:
        row = out[c.pk]
        row["workdays_left"] = workdays_left(c, calendar=calendar)
        row["percent"] = round(100 * row["verified"] / row["total"]) if row["total"] else 0
        row["regions"] = [names.get(code, code) for code in c.regions]
    return out


def workdays_left(
    campaign: Campaign, *, today: dt.date | None = None, calendar: Calendar | None = None
) -> int:
    """Working days from today (or the start, if later) to the end, both counted, by the
    events' calendar (public holidays and the district's overrides)."""
    today = today or timezone.localdate()
    calendar = calendar or Calendar()
    day = max(today, campaign.start)
    n = 0
    while day <= campaign.end and n < 3660:
        if calendar.is_workday(day):
            n += 1
        day += dt.timedelta(days=1)
    return n


def grid_figures(*, actor: Any) -> dict[str, dict[str, int]]:
    """Per grid the actor sees (`campaigns.view`): the people ledger's completeness (current
    people with every field of the basic template, of all current people) and, while a campaign
    runs, the newest open campaign's progress (records verified, of its records)."""
    scope = as_scope(actor)
    if not scope.has(Perm.CAMPAIGNS_VIEW):
        return {}
    out: dict[str, dict[str, int]] = defaultdict(dict)
    grids = list(
        Region.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
        .filter(level="grid", valid_to=None)
        .values_list("code", flat=True)
    )
    basic = Template.objects.filter(code="basic").first()
    fields = (basic.spec if basic else {}).get("fields", {})
    measured = quality.measure(
        scope, grid_codes=grids, kinds=["person"], fields=fields, today=timezone.localdate()
    )
    for (grid, _kind), counts in measured.items():
        out[grid] |= {"people_complete": counts["complete"], "people_total": counts["total"]}
    running = (
        Campaign.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
        .filter(status=CampaignStatus.OPEN)
        .order_by("-start", "-id")
        .first()
    )
    if running is not None:
        rows = (
            TaskRecord.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
            .filter(campaign_id_copy=running.pk)
            .order_by()
            .values("grid_code")
            .annotate(n=Count("id"), done=Count("id", filter=Q(status__in=DONE_STATUSES)))
        )
        for row in rows:
            out[row["grid_code"]] |= {"campaign_done": row["done"], "campaign_total": row["n"]}
    return dict(out)


def audit_names_unscoped(kind: str, ids: list[str]) -> dict[str, str]:
    """Campaign names and task titles by id, for the audit log."""
    from wangge.core.audit_words import numeric_ids

    model, field = {"campaign": (Campaign, "name"), "campaign_task": (Task, "title")}[kind]
    rows = model.objects.dangerously_unscoped().filter(pk__in=numeric_ids(ids))
    return {str(pk): value for pk, value in rows.values_list("pk", field)}
