"""Writes of campaigns: create one (tasks, worklists, the quality snapshot), assign, split,
take and renew, the task's states and its review, and resolving conflicts. Each service
checks its own rule against the grant covering the task, in its own transaction, and audits.
The field edits a phone sends are in `edits.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.campaigns import quality, selection
from wangge.campaigns.models import (
    OPEN_STATES,
    AssigneeRole,
    Campaign,
    CampaignStatus,
    EditOp,
    EditStatus,
    FieldEdit,
    Kind,
    QualitySnapshot,
    RecordStatus,
    Task,
    TaskAction,
    TaskAssignee,
    TaskRecord,
    TaskState,
    Template,
)
from wangge.campaigns.regrid import regrid as regrid  # re-homing tasks in a restructure
from wangge.core.audit import audit_record
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.models import User
from wangge.core.roles import Perm, Role
from wangge.core.scope import Scope, ScopeGrant, as_scope, require_any
from wangge.regions.models import common_region
from wangge.regions.selectors import grids_under, region_get
from wangge.teams.selectors import team_users

REVIEW_LEVELS = {"community": 12, "street": 9, "district": 6}


def hold_hours() -> int:
    return int(getattr(settings, "CAMPAIGNS_HOLD_HOURS", 8))


# -- who may work a task ---------------------------------------------------------------------


def _named(task: Task, user_id: int | None) -> TaskAssignee | None:
    if user_id is None:
        return None
    return TaskAssignee.objects.dangerously_unscoped().filter(task=task, user_id=user_id).first()


def in_window(campaign: Campaign, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return campaign.status == CampaignStatus.OPEN and campaign.start <= today <= campaign.end


def task_actor(actor: Any, task: Task, *, now: dt.datetime | None = None) -> Scope | None:
    """The scope the actor works this task with, or None when it is not theirs to work.

    - named on the task (responsible, collector, helper from outside the team): their own
      scope plus a grid-worker grant over the task's grid — only while the campaign is open
      and inside its window (a helper has no other way in);
    - a task assigned to the grid's team: anyone holding `campaigns.collect` over the grid;
    - an open task: whoever holds it, until the hold expires.
    """
    scope = as_scope(actor)
    if scope.is_system:
        return scope
    now = now or timezone.now()
    campaign = task.campaign
    if campaign.status != CampaignStatus.OPEN:
        return None
    if _named(task, scope.user_id) is not None:
        if not in_window(campaign, timezone.localdate(now)):
            return None
        grant = ScopeGrant(role=Role.GRID_WORKER, region_code=task.grid_code, department=None)
        return replace(scope, grants=(*scope.grants, grant))
    if not scope.holds(Perm.CAMPAIGNS_COLLECT, task.grid_code):
        return None
    if task.team_assigned:
        return scope
    if task.held_by_id == scope.user_id and task.held_until and task.held_until > now:
        return scope
    return None


def _visible_task(actor: Any, task_id: Any, *, lock: bool = False) -> Task:
    """The task if the actor sees it (its grid, or named on it); NotFound otherwise."""
    scope = as_scope(actor)
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = Task.objects.dangerously_unscoped().select_related("campaign")
    if lock:
        qs = qs.select_for_update(of=("self",))
    task = qs.filter(pk=pk).first()
    if task is None:
        raise NotFound()
    if scope.is_system or scope.holds(Perm.CAMPAIGNS_VIEW, task.grid_code):
        return task
    if _named(task, scope.user_id) is not None:
        return task
    raise NotFound()


def task_for_work(
    actor: Any, task_id: Any, *, lock: bool = False, now: dt.datetime | None = None
) -> tuple[Task, Scope]:
    """The task and the scope the actor works it with, as of `now` (the window decides for
    helpers; the demo's history passes the moment it replays)."""
    task = _visible_task(actor, task_id, lock=lock)
    work = task_actor(actor, task, now=now)
    if work is None:
        raise PermissionDenied(_("This task is not yours to work on."), code="not_yours")
    return task, work


def participants(task: Task) -> set[int]:
    """Everyone who took part in the task's field work: they never approve it."""
    people = set(
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task)
        .exclude(actor_id=None)
        .values_list("actor_id", flat=True)
    )
    if task.submitted_by_id:
        people.add(task.submitted_by_id)
    return people


def _reviews_at(scope: Scope, task: Task, level: str) -> bool:
    if scope.is_system:
        return True
    longest = REVIEW_LEVELS[level]
    return any(
        task.grid_code.startswith(g.region_code) and len(g.region_code) <= longest
        for g in scope.grants_for(Perm.CAMPAIGNS_REVIEW)
    )


def review_refusal(scope: Scope, task: Task, *, level: str) -> str | None:
    """Why this actor may not review the task at `level` now (None: they may)."""
    if not _reviews_at(scope, task, level):
        return _("Reviewing this task needs a reviewer at %(level)s level.") % {
            "level": {
                "community": _("community"),
                "street": _("street"),
                "district": _("district"),
            }[level]
        }
    if scope.user_id is not None and scope.user_id in participants(task):
        return _("You took part in this task's field work; someone else must review it.")
    if level != "community" and scope.user_id is not None and scope.user_id == task.reviewed_by_id:
        return _("The spot check must be made by someone other than the first reviewer.")
    return None


# -- the log --------------------------------------------------------------------------------


def _log(
    task: Task,
    scope: Scope,
    action: str,
    before: str,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    TaskAction.objects.create(
        task=task,
        grid_code=task.grid_code,
        action=action,
        from_state=before,
        to_state=task.state,
        actor_id=scope.user_id,
        actor_name=scope.username,
        reason=reason[:300],
        at=now or timezone.now(),
    )
    audit_record(
        actor=scope,
        action=f"campaign.task.{action}",
        object_type="campaign_task",
        object_id=task.pk,
        details={"from": before, "to": task.state, **(details or {})},
    )


def _move_state(
    task: Task,
    scope: Scope,
    action: str,
    to: str,
    *,
    now: dt.datetime | None = None,
    **changes: Any,
) -> Task:
    """Change the task's state with `UPDATE … WHERE version = ?`: of two people acting at
    once, one wins and the other is told."""
    before = task.state
    now = now or timezone.now()
    fields = {"state": to, "version": task.version + 1, "updated_at": now, **changes}
    done = (
        Task.objects.dangerously_unscoped()
        .filter(pk=task.pk, version=task.version)
        .update(**fields)
    )
    if not done:
        raise Conflict(_("Someone else acted on this task first. Reload it."), code="conflict")
    for k, v in fields.items():
        setattr(task, k, v)
    reason = str(changes.get("returned_reason", "")) if action == "return" else ""
    _log(task, scope, action, before, reason=reason, now=now)
    return task


# -- create ---------------------------------------------------------------------------------


def _parse_day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            _("Give the date as YYYY-MM-DD."), code="invalid_date", details={"field": field}
        ) from None


def template_get(code: str) -> Template:
    template = Template.objects.filter(code=code).first()
    if template is None:
        raise ValidationFailed(
            _("Unknown campaign template: %(code)s.") % {"code": code},
            code="unknown_template",
            details={"field": "template"},
        )
    return template


@transaction.atomic
def campaign_create(
    *,
    actor: Any,
    name: str,
    template: str,
    regions: list[str],
    start: Any,
    end: Any,
    kinds: list[str] | None = None,
    spot_check_rate: float | None = None,
    criteria: dict[str, Any] | None = None,
    team_assigned: bool = True,
    today: dt.date | None = None,
) -> Campaign:
    """Start a campaign over `regions` (district, streets, communities or grids): one task
    per grid, assigned to the grid's team (the leader responsible) unless `team_assigned` is
    False (workers then take tasks), each with its worklist, and the quality snapshot.

    `criteria` (the epidemic list): {"reasons": [...], "recent_days": n} narrows households
    and people to the households with someone who needs a visit first."""
    scope = require_any(actor, Perm.CAMPAIGNS_MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("Give the campaign a name."), code="required", details={"field": "name"}
        )
    spec_template = template_get(template)
    spec = dict(spec_template.spec)
    codes = sorted({str(c).strip() for c in regions if str(c).strip()})
    if not codes:
        raise ValidationFailed(
            _("Choose the regions the campaign covers."),
            code="required",
            details={"field": "regions"},
        )
    for code in codes:
        try:
            region_get(actor=scope, code=code)
        except NotFound:
            raise ValidationFailed(
                _("Unknown region, or not one you may start a campaign in: %(code)s.")
                % {"code": code},
                code="unknown_region",
                details={"field": "regions"},
            ) from None
        if not scope.holds(Perm.CAMPAIGNS_MANAGE, code):
            raise ValidationFailed(
                _("Unknown region, or not one you may start a campaign in: %(code)s.")
                % {"code": code},
                code="unknown_region",
                details={"field": "regions"},
            )
    first, last = _parse_day(start, "start"), _parse_day(end, "end")
    today = today or timezone.localdate()
    if last < first:
        raise ValidationFailed(
            _("The end date is before the start date."),
            code="invalid_window",
            details={"field": "end"},
        )
    if not scope.is_system and last < today:
        raise ValidationFailed(
            _("The end date has passed."), code="invalid_window", details={"field": "end"}
        )
    allowed = [k for k in spec.get("kinds", []) if k in Kind.values]
    chosen = [k for k in (kinds or allowed) if k]
    unknown = [k for k in chosen if k not in Kind.values]
    if unknown or not chosen:
        raise ValidationFailed(
            _("Choose the kinds of record to verify."),
            code="invalid_kinds",
            details={"field": "kinds"},
        )
    grids = grids_under(actor=scope, codes=codes, perm=Perm.CAMPAIGNS_MANAGE)
    if not grids:
        raise ValidationFailed(
            _("There are no grids in these regions."), code="no_grids", details={"field": "regions"}
        )
    grid_codes = [g.code for g in grids]
    households: set[int] | None = None
    if criteria:
        reasons = [r for r in criteria.get("reasons", []) if r in selection.REASONS]
        if not reasons:
            raise ValidationFailed(
                _("Choose who needs a visit first."),
                code="invalid_criteria",
                details={"field": "reasons"},
            )
        recent = int(criteria.get("recent_days") or 14)
        people = selection.priority_people(
            scope, grid_codes=grid_codes, reasons=reasons, today=today, recent_days=recent
        )
        households = {p.household_id for p in people if p.household_id}
        criteria = {"reasons": reasons, "recent_days": recent, "households": len(households)}
    rate = float(spec.get("spot_check", 0.0) if spot_check_rate is None else spot_check_rate)
    if not 0.0 <= rate <= 1.0:
        raise ValidationFailed(
            _("The spot-check share is between 0 and 1."),
            code="invalid_rate",
            details={"field": "spot_check_rate"},
        )
    campaign = Campaign.objects.create(
        name=name[:100],
        template=spec_template,
        spec=spec,
        region_code=common_region(codes),
        regions=codes,
        kinds=chosen,
        start=first,
        end=last,
        spot_check_rate=rate,
        criteria=criteria or {},
        created_by_id=scope.user_id,
    )
    work = selection.worklist(
        scope,
        grid_codes=grid_codes,
        kinds=chosen,
        selection=spec.get("selection", {}),
        households=households,
    )
    teams = team_users(actor=scope, grid_codes=grid_codes)
    tasks = Task.objects.bulk_create(
        Task(
            campaign=campaign,
            grid_code=g.code,
            title=g.name,
            team_assigned=team_assigned,
        )
        for g in grids
    )
    by_grid = {t.grid_code: t for t in tasks}
    assignees = []
    for grid, members in teams.items():
        task = by_grid.get(grid)
        if task is None or not team_assigned:
            continue
        for user_id, role in members:
            assignees.append(
                TaskAssignee(
                    task=task,
                    user_id=user_id,
                    role=AssigneeRole.RESPONSIBLE if role == "leader" else AssigneeRole.COLLECTOR,
                )
            )
    TaskAssignee.objects.bulk_create(assignees, batch_size=2000)
    TaskRecord.objects.bulk_create(
        (
            TaskRecord(
                task=by_grid[grid],
                campaign_id_copy=campaign.pk,
                grid_code=grid,
                kind=item.kind,
                record_id=item.record_id,
                sort_key=item.sort_key[:80],
            )
            for grid, items in work.items()
            if grid in by_grid
            for item in items
        ),
        batch_size=5000,
    )
    now = timezone.now()
    measured = quality.measure(
        scope, grid_codes=grid_codes, kinds=chosen, fields=spec.get("fields", {}), today=today
    )
    QualitySnapshot.objects.bulk_create(
        (
            QualitySnapshot(
                campaign=campaign, grid_code=grid, kind=kind, counts=counts, taken_at=now
            )
            for (grid, kind), counts in measured.items()
        ),
        batch_size=2000,
    )
    audit_record(
        actor=scope,
        action="campaign.create",
        object_type="campaign",
        object_id=campaign.pk,
        details={
            "template": spec_template.code,
            "regions": codes,
            "kinds": chosen,
            "tasks": len(tasks),
            "records": sum(len(v) for v in work.values()),
        },
    )
    return campaign


def _campaign_for_manage(actor: Any, campaign_id: Any) -> tuple[Campaign, Scope]:
    scope = as_scope(actor)
    try:
        campaign = (
            Campaign.objects.visible_to(scope, Perm.CAMPAIGNS_VIEW)
            .select_for_update()
            .get(pk=int(campaign_id))
        )
    except (Campaign.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    scope.require_for(Perm.CAMPAIGNS_MANAGE, campaign, _("Your role may not manage this campaign."))
    return campaign, scope


@transaction.atomic
def campaign_close(*, actor: Any, campaign_id: Any) -> Campaign:
    campaign, scope = _campaign_for_manage(actor, campaign_id)
    if campaign.status == CampaignStatus.CLOSED:
        raise ValidationFailed(_("The campaign is already closed."), code="already_closed")
    campaign.status = CampaignStatus.CLOSED
    campaign.version += 1
    campaign.save(update_fields=["status", "version"])
    audit_record(
        actor=scope, action="campaign.close", object_type="campaign", object_id=campaign.pk
    )
    return campaign


# -- assignment -----------------------------------------------------------------------------


def _task_for_manage(actor: Any, task_id: Any) -> tuple[Task, Scope]:
    scope = as_scope(actor)
    task = _visible_task(scope, task_id, lock=True)
    if not scope.holds(Perm.CAMPAIGNS_MANAGE, task.grid_code):
        if scope.holds(Perm.CAMPAIGNS_VIEW, task.grid_code):
            raise PermissionDenied(_("Your role may not assign this task."))
        raise NotFound()
    return task, scope


@transaction.atomic
def task_assign(
    *,
    actor: Any,
    task_id: Any,
    username: str,
    role: str = AssigneeRole.HELPER,
    now: dt.datetime | None = None,
) -> TaskAssignee:
    """Name someone on a task: a team member, or a helper from outside the team (district or
    street staff, a first secretary) who works it only through the task, inside the window."""
    task, scope = _task_for_manage(actor, task_id)
    if role not in AssigneeRole.values:
        raise ValidationFailed(code="invalid_role", details={"field": "role"})
    user = User.objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise ValidationFailed(
            _("No active user with this login name."),
            code="unknown_user",
            details={"field": "username"},
        )
    named, created = TaskAssignee.objects.dangerously_unscoped().get_or_create(
        task=task, user=user, defaults={"role": role}
    )
    if not created and named.role != role:
        named.role = role
        named.save(update_fields=["role"])
    _log(task, scope, "assign", task.state, details={"user": user.pk, "role": role}, now=now)
    return named


@transaction.atomic
def task_unassign(*, actor: Any, task_id: Any, user_id: int) -> None:
    task, scope = _task_for_manage(actor, task_id)
    deleted, _n = (
        TaskAssignee.objects.dangerously_unscoped().filter(task=task, user_id=user_id).delete()
    )
    if not deleted:
        raise NotFound()
    _log(task, scope, "unassign", task.state, details={"user": user_id})


@transaction.atomic
def task_split(*, actor: Any, task_id: Any, by: str = "building") -> list[Task]:
    """Split a large grid's task into one sub-task per building (or estate); records without
    an address stay on the grid's task. Only a task nobody has started."""
    task, scope = _task_for_manage(actor, task_id)
    if by not in {"building", "estate"}:
        raise ValidationFailed(code="invalid_split", details={"field": "by"})
    if (
        task.state != TaskState.ASSIGNED
        or task.parent_id
        or FieldEdit.objects.dangerously_unscoped().filter(task=task).exists()
    ):
        raise ValidationFailed(
            _("Only a task that has not started can be split."), code="already_started"
        )
    from wangge.ledger.models import Building

    records = list(TaskRecord.objects.dangerously_unscoped().filter(task=task))
    groups: dict[str, list[TaskRecord]] = {}
    for rec in records:
        parts = rec.sort_key.split("/")
        estate, building = parts[0], parts[1] if len(parts) > 1 else ""
        if estate in {"", "~"}:
            continue
        groups.setdefault(estate if by == "estate" else f"{estate}/{building}", []).append(rec)
    if len(groups) < 2:
        raise ValidationFailed(
            _("There is nothing to split this task by."), code="nothing_to_split"
        )
    names = {}
    for b in (
        Building.objects.dangerously_unscoped()
        .filter(code__in=[k.split("/")[-1] for k in groups])
        .select_related("estate")
    ):
        names[b.code] = (b.estate.name, b.name, b.estate_id, b.pk)
    estates = {v[2]: v[0] for v in names.values()}
    parts_made = []
    for key, recs in sorted(groups.items()):
        code = key.split("/")[-1]
        info = names.get(code)
        title = (
            f"{task.title} · {info[0]}{info[1]}"
            if info and by == "building"
            else f"{task.title} · {key}"
        )
        part = Task.objects.create(
            campaign=task.campaign,
            parent=task,
            grid_code=task.grid_code,
            title=title[:200],
            team_assigned=task.team_assigned,
            building_id=info[3] if info and by == "building" else None,
            estate_id=info[2] if info else None,
        )
        if by == "estate" and not info:
            part.title = f"{task.title} · {estates.get(None, key)}"[:200]
        TaskRecord.objects.dangerously_unscoped().filter(pk__in=[r.pk for r in recs]).update(
            task=part
        )
        TaskAssignee.objects.bulk_create(
            TaskAssignee(task=part, user_id=a.user_id, role=a.role)
            for a in TaskAssignee.objects.dangerously_unscoped().filter(task=task)
        )
        parts_made.append(part)
    _log(task, scope, "split", task.state, details={"by": by, "parts": len(parts_made)})
    return parts_made


# -- taking an open task -----------------------------------------------------------------------


@transaction.atomic
def task_take(*, actor: Any, task_id: Any) -> Task:
    """Take a task nobody was assigned: held for the worker for `WANGGE_CAMPAIGNS_HOLD_HOURS`,
    which they see counting down and can renew. Taking it again renews it."""
    scope = as_scope(actor)
    task = _visible_task(scope, task_id, lock=True)
    if not scope.holds(Perm.CAMPAIGNS_COLLECT, task.grid_code):
        raise PermissionDenied(_("Your role may not work on this task."))
    if task.team_assigned:
        raise ValidationFailed(_("This task is assigned; it need not be taken."), code="assigned")
    if task.state not in OPEN_STATES:
        raise ValidationFailed(_("This task is no longer open."), code="not_open")
    now = timezone.now()
    if task.held_by_id not in (None, scope.user_id) and task.held_until and task.held_until > now:
        raise Conflict(
            _("Someone else holds this task until %(until)s.")
            % {"until": timezone.localtime(task.held_until).strftime("%m-%d %H:%M")},
            code="held",
        )
    action = (
        "renew"
        if task.held_by_id == scope.user_id and task.held_until and task.held_until > now
        else "take"
    )
    task.held_by_id = scope.user_id
    task.held_until = now + dt.timedelta(hours=hold_hours())
    task.version += 1
    task.save(update_fields=["held_by", "held_until", "version", "updated_at"])
    _log(task, scope, action, task.state, details={"until": task.held_until.isoformat()})
    return task


@transaction.atomic
def task_release(*, actor: Any, task_id: Any) -> Task:
    scope = as_scope(actor)
    task = _visible_task(scope, task_id, lock=True)
    if task.held_by_id != scope.user_id:
        raise PermissionDenied(_("You do not hold this task."))
    task.held_by_id, task.held_until = None, None
    task.version += 1
    task.save(update_fields=["held_by", "held_until", "version", "updated_at"])
    _log(task, scope, "release", task.state)
    return task


# -- states ---------------------------------------------------------------------------------


@transaction.atomic
def task_start(*, actor: Any, task_id: Any, now: dt.datetime | None = None) -> Task:
    task, work = task_for_work(actor, task_id, lock=True, now=now)
    if task.state == TaskState.IN_PROGRESS:
        return task
    if task.state not in (TaskState.ASSIGNED, TaskState.RETURNED):
        raise ValidationFailed(_("This task has been submitted."), code="illegal_transition")
    return _move_state(task, work, "start", TaskState.IN_PROGRESS, now=now)


@transaction.atomic
def task_submit(
    *, actor: Any, task_id: Any, version: int | None = None, now: dt.datetime | None = None
) -> Task:
    """The collector hands the task in for review."""
    task, work = task_for_work(actor, task_id, lock=True, now=now)
    if version is not None and int(version) != task.version:
        raise Conflict(_("Someone else acted on this task first. Reload it."), code="conflict")
    if task.state not in OPEN_STATES:
        raise ValidationFailed(
            _("This task has already been submitted."), code="illegal_transition"
        )
    if Task.objects.dangerously_unscoped().filter(parent=task).exists():
        raise ValidationFailed(_("Submit each part of this task."), code="has_parts")
    held = (
        FieldEdit.objects.dangerously_unscoped().filter(task=task, status=EditStatus.HELD).count()
    )
    if held:
        raise ValidationFailed(
            _("%(n)d edits are waiting for earlier ones from the same phone; send them first.")
            % {"n": held},
            code="edits_held",
        )
    return _move_state(
        task,
        work,
        "submit",
        TaskState.SUBMITTED,
        now=now,
        submitted_by_id=work.user_id,
        submitted_at=now or timezone.now(),
        held_by_id=None,
        held_until=None,
    )


def _task_for_review(actor: Any, task_id: Any) -> tuple[Task, Scope]:
    scope = as_scope(actor)
    task = _visible_task(scope, task_id, lock=True)
    if not scope.holds(Perm.CAMPAIGNS_VIEW, task.grid_code) and not scope.is_system:
        raise NotFound()
    return task, scope


def _sampled(task: Task) -> bool:
    """Whether the street's spot check picks this task: a stable draw at the campaign's rate."""
    rate = task.campaign.spot_check_rate
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"{task.campaign_id}:{task.pk}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < rate


@transaction.atomic
def task_approve(
    *, actor: Any, task_id: Any, version: int | None = None, now: dt.datetime | None = None
) -> Task:
    """Approve a submitted task (the community's review) or, when the spot check picked it,
    a reviewed one (the street's second approval). The order is the state's: the spot check
    cannot come first. Nobody who took part in the field work approves it."""
    task, scope = _task_for_review(actor, task_id)
    if version is not None and int(version) != task.version:
        raise Conflict(_("Someone else acted on this task first. Reload it."), code="conflict")
    if task.state == TaskState.SUBMITTED:
        level = "community"
    elif task.state == TaskState.REVIEWED:
        level = "street"
    else:
        raise ValidationFailed(
            _("Only a submitted task can be approved."), code="illegal_transition"
        )
    refusal = review_refusal(scope, task, level=level)
    if refusal:
        raise PermissionDenied(refusal, code="not_reviewer")
    conflicts = (
        FieldEdit.objects.dangerously_unscoped()
        .filter(task=task, status=EditStatus.CONFLICT)
        .count()
    )
    if conflicts:
        raise ValidationFailed(
            _("Resolve the %(n)d conflicting edits first.") % {"n": conflicts},
            code="open_conflicts",
        )
    now = now or timezone.now()
    if level == "community":
        picked = _sampled(task)
        return _move_state(
            task,
            scope,
            "approve",
            TaskState.REVIEWED if picked else TaskState.APPROVED,
            now=now,
            reviewed_by_id=scope.user_id,
            reviewed_at=now,
            spot_check=picked,
        )
    return _move_state(
        task,
        scope,
        "spot_check",
        TaskState.APPROVED,
        now=now,
        spot_checked_by_id=scope.user_id,
        spot_checked_at=now,
    )


@transaction.atomic
def task_return(
    *,
    actor: Any,
    task_id: Any,
    reason: str,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Send a task back to its collectors with the reason (at either review level)."""
    task, scope = _task_for_review(actor, task_id)
    if version is not None and int(version) != task.version:
        raise Conflict(_("Someone else acted on this task first. Reload it."), code="conflict")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the task is returned."), code="reason_required", details={"field": "reason"}
        )
    if task.state not in (TaskState.SUBMITTED, TaskState.REVIEWED):
        raise ValidationFailed(
            _("Only a submitted task can be returned."), code="illegal_transition"
        )
    level = "community" if task.state == TaskState.SUBMITTED else "street"
    refusal = review_refusal(scope, task, level=level)
    if refusal:
        raise PermissionDenied(refusal, code="not_reviewer")
    return _move_state(
        task,
        scope,
        "return",
        TaskState.RETURNED,
        now=now,
        returned_reason=reason[:300],
        returns=task.returns + 1,
    )


# -- conflicts ------------------------------------------------------------------------------


@transaction.atomic
def conflict_resolve(*, actor: Any, edit_id: Any, choice: str, task_id: Any = None) -> FieldEdit:
    """The reviewer decides a conflicting edit: keep the ledger's value (`server`), or apply
    the field's value onto the record as it is now (`field`). With `task_id` (the API's path),
    an edit of another task is not found."""
    from wangge.campaigns import edits as edit_mod

    scope = as_scope(actor)
    try:
        edit = (
            FieldEdit.objects.dangerously_unscoped()
            .select_related("task", "task__campaign")
            .select_for_update(of=("self",))
            .get(pk=int(edit_id))
        )
    except (FieldEdit.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    task = edit.task
    if not (scope.is_system or scope.holds(Perm.CAMPAIGNS_VIEW, task.grid_code)):
        raise NotFound()
    if task_id is not None and str(task_id) != str(task.pk):
        raise NotFound()
    if edit.status != EditStatus.CONFLICT:
        raise ValidationFailed(_("This edit is not in conflict."), code="not_conflict")
    if choice not in {"server", "field"}:
        raise ValidationFailed(
            _("Choose which value to keep."), code="invalid_choice", details={"field": "choice"}
        )
    refusal = review_refusal(scope, task, level="community")
    if refusal:
        raise PermissionDenied(refusal, code="not_reviewer")
    record = (
        TaskRecord.objects.dangerously_unscoped()
        .filter(task=task, kind=edit.kind, record_id=edit.record_id)
        .first()
    )
    if choice == "field":
        version = edit_mod.current_version(edit.kind, edit.record_id)
        result = edit_mod.apply_one(scope, task, edit, version=version)
        if result.status != EditStatus.APPLIED:
            raise ValidationFailed(
                _("The field value cannot be applied: %(why)s") % {"why": result.message},
                code="cannot_apply",
                details={"errors": result.errors},
            )
        status = result.record_status
        checked = result.version
    else:
        status = RecordStatus.CONFIRMED
        checked = edit_mod.current_version(edit.kind, edit.record_id)
    edit.status = EditStatus.RESOLVED
    edit.resolution = choice
    edit.resolved_by_id = scope.user_id
    edit.resolved_at = timezone.now()
    edit.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    if record is not None:
        record.status = status
        record.checked_version = checked
        record.save(update_fields=["status", "checked_version"])
    audit_record(
        actor=scope,
        action="campaign.conflict.resolve",
        object_type="campaign_edit",
        object_id=edit.pk,
        details={"task": task.pk, "choice": choice, "kind": edit.kind, "record": edit.record_id},
    )
    return edit


__all__ = [
    "EditOp",
    "campaign_close",
    "campaign_create",
    "conflict_resolve",
    "task_actor",
    "task_approve",
    "task_assign",
    "task_for_work",
    "task_release",
    "task_return",
    "task_split",
    "task_start",
    "task_submit",
    "task_take",
    "task_unassign",
]
