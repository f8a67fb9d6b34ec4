"""Desktop pages of campaigns (see views/__init__.py): the list, a new campaign, the epidemic
list, a campaign's progress and map, its quality report, a task (assignees, hold, worklist,
history, review, conflicts) and the printable visit sheet.

Adapters only: what a page may offer comes from `selectors.campaign_abilities` /
`task_abilities`; a NotFound from a selector or service is the same 404 page for missing and
out of scope."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.campaigns import exports, selection, selectors, services
from wangge.campaigns.models import (
    AssigneeRole,
    Kind,
    Outcome,
    RecordStatus,
    TaskState,
)
from wangge.core.errors import NotFound, ValidationFailed, WanggeError
from wangge.core.scope import Scope, scope_for
from wangge.ledger import fields as ledger_fields

LEVEL_LABELS = {
    "street": gettext_lazy("By street"),
    "community": gettext_lazy("By village/community"),
    "grid": gettext_lazy("By grid"),
}
# Progress classes of the map (share of records verified), with the legend's labels.
MAP_CLASSES = [
    ("p0", 0, "0–24%"),
    ("p25", 25, "25–49%"),
    ("p50", 50, "50–74%"),
    ("p75", 75, "75–99%"),
    ("p100", 100, "100%"),
]
ACTION_MESSAGES = {
    "take": gettext_lazy("The task is held for you."),
    "release": gettext_lazy("The task is released."),
    "start": gettext_lazy("The task is under way."),
    "submit": gettext_lazy("The task is submitted for review."),
    "approve": gettext_lazy("The task is approved."),
    "return": gettext_lazy("The task is returned to its collectors."),
    "assign": gettext_lazy("The person is named on the task."),
    "unassign": gettext_lazy("The person is no longer named on the task."),
    "split": gettext_lazy("The task is split."),
}

HISTORY_LABELS = {
    "start": gettext_lazy("started"),
    "submit": gettext_lazy("submitted"),
    "approve": gettext_lazy("approved"),
    "spot_check": gettext_lazy("approved in the spot check"),
    "return": gettext_lazy("returned"),
    "assign": gettext_lazy("named someone on the task"),
    "unassign": gettext_lazy("removed someone from the task"),
    "split": gettext_lazy("split the task"),
    "take": gettext_lazy("took the task"),
    "renew": gettext_lazy("renewed the hold"),
    "release": gettext_lazy("released the task"),
    "expire": gettext_lazy("the hold expired"),
}


def _field_labels(kind: str) -> dict[str, str]:
    if kind not in ledger_fields.RECORDS:
        return {}
    return {f.key: str(f.label) for f in ledger_fields.fields(kind)}


def _actor(request: HttpRequest) -> Scope:
    return scope_for(request.user)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _percent(verified: int, total: int) -> int:
    return round(100 * verified / total) if total else 0


def _sum_records(records: dict[str, dict[str, int]]) -> dict[str, int]:
    out = {"total": 0, "verified": 0, "corrected": 0, "added": 0, "retired": 0, "conflict": 0}
    for counts in records.values():
        for key in out:
            out[key] += counts.get(key, 0)
    out["percent"] = _percent(out["verified"], out["total"])
    return out


def _state_labels() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in TaskState.choices]


# -- the list ---------------------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    campaigns = selectors.campaign_list(actor=scope)
    summaries = selectors.campaign_summaries(actor=scope, campaigns=campaigns)
    return render(
        request,
        "campaigns/list.html",
        {
            "rows": [
                {
                    "campaign": c,
                    "s": summaries[c.pk],
                    "states": [
                        (label, summaries[c.pk]["by_state"][value])
                        for value, label in _state_labels()
                        if summaries[c.pk]["by_state"].get(value)
                    ],
                }
                for c in campaigns
            ],
            "abilities": selectors.campaigns_abilities(actor=scope),
        },
    )


# -- a new campaign --------------------------------------------------------------------------


def _new_form_context(scope: Scope, posted: dict[str, Any] | None = None) -> dict[str, Any]:
    today = timezone.localdate()
    templates = selectors.templates()
    posted = posted or {
        "template": templates[0].code if templates else "",
        "start": today.isoformat(),
        "end": (today + dt.timedelta(days=14)).isoformat(),
        "regions": [],
        "kinds": [],
        "spot_check": "",
        "assignment": "team",
        "name": "",
    }
    return {
        "templates": [
            {
                "t": t,
                "kinds": ",".join(t.spec.get("kinds", [])),
                "kind_labels": [str(Kind(k).label) for k in t.spec.get("kinds", []) if k in Kind],
                "spot_check": round(100 * float(t.spec.get("spot_check", 0) or 0)),
            }
            for t in templates
        ],
        "regions": selectors.manageable_regions(actor=scope),
        "kinds": Kind.choices,
        "f": posted,
    }


def _posted_campaign(request: HttpRequest) -> dict[str, Any]:
    p = request.POST
    return {
        "name": p.get("name", "").strip(),
        "template": p.get("template", ""),
        "regions": p.getlist("regions"),
        "start": p.get("start", ""),
        "end": p.get("end", ""),
        "kinds": p.getlist("kinds"),
        "spot_check": p.get("spot_check", "").strip(),
        "assignment": p.get("assignment", "team"),
    }


def _rate(text: str) -> float | None:
    if not text:
        return None
    try:
        return float(text) / 100
    except ValueError:
        raise ValidationFailed(
            _("The spot-check share is a percentage from 0 to 100."),
            code="invalid_rate",
            details={"field": "spot_check_rate"},
        ) from None


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    if request.method != "POST":
        return render(request, "campaigns/new.html", _new_form_context(scope))
    f = _posted_campaign(request)
    try:
        campaign = services.campaign_create(
            actor=scope,
            name=f["name"],
            template=f["template"],
            regions=f["regions"],
            start=f["start"],
            end=f["end"],
            kinds=f["kinds"] or None,
            spot_check_rate=_rate(f["spot_check"]),
            team_assigned=f["assignment"] != "open",
        )
    except NotFound:
        raise
    except WanggeError as exc:
        context = _new_form_context(scope, f) | {"error": exc.message}
        return render(request, "campaigns/new.html", context, status=400)
    messages.success(request, _("The campaign is started: one task per grid."))
    return redirect("campaigns:detail", campaign_id=campaign.pk)


# -- the epidemic list -------------------------------------------------------------------------


def _recent_days(text: str) -> int:
    return max(1, min(int(text), 365)) if text.isdigit() else 14


@login_required
def priority(request: HttpRequest) -> HttpResponse:
    """Who needs a visit first, per grid, and one button that starts a 入户走访排查 over
    exactly their households."""
    scope = _actor(request)
    data = request.POST if request.method == "POST" else request.GET
    chosen_regions = data.getlist("regions")
    reasons = [r for r in data.getlist("reasons") if r in selection.REASONS]
    recent = _recent_days(data.get("recent_days", ""))
    today = timezone.localdate()
    if request.method == "POST":
        try:
            campaign = services.campaign_create(
                actor=scope,
                name=data.get("name", "").strip() or _("Household visits: who needs a visit first"),
                template="visit",
                regions=chosen_regions,
                start=today,
                end=data.get("end", "") or (today + dt.timedelta(days=7)).isoformat(),
                criteria={"reasons": reasons, "recent_days": recent},
            )
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The household visits are started: one task per grid."))
            return redirect("campaigns:detail", campaign_id=campaign.pk)
    regions = selectors.manageable_regions(actor=scope)
    result = (
        selectors.priority_list(
            actor=scope, regions=chosen_regions, reasons=reasons, recent_days=recent
        )
        if chosen_regions and reasons
        else None
    )
    labels = {k: str(v) for k, v in selection.REASONS.items()}
    grids = []
    for g in (result or {}).get("grids", []):
        grids.append(
            {
                "code": g["code"],
                "name": g["name"],
                "households": g["households"],
                "people": [
                    {
                        "name": p.name,
                        "birth_year": p.birth_year,
                        "household_id": p.household_id,
                        "why": "、".join(labels.get(r, r) for r in p.reasons),
                    }
                    for p in g["people"]
                ],
            }
        )
    return render(
        request,
        "campaigns/priority.html",
        {
            "regions": regions,
            "chosen": set(chosen_regions),
            "reasons": list(labels.items()),
            "chosen_reasons": set(reasons),
            "recent_days": recent,
            "result": result,
            "grids": grids,
            "end": (today + dt.timedelta(days=7)).isoformat(),
        },
        status=400 if request.method == "POST" else 200,
    )


# -- a campaign ------------------------------------------------------------------------------


def _map_class(percent: int, total: int) -> str:
    if not total:
        return "none"
    chosen = "p0"
    for name, floor, _label in MAP_CLASSES:
        if percent >= floor:
            chosen = name
    return chosen


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = _actor(request)
    campaign = selectors.campaign_get(actor=scope, campaign_id=campaign_id)
    level = request.GET.get("level", "")
    if level not in LEVEL_LABELS:
        level = "community"
    by_grid = selectors.progress(actor=scope, campaign=campaign, level="grid")
    shown = (
        by_grid
        if level == "grid"
        else selectors.progress(actor=scope, campaign=campaign, level=level)
    )
    rows = [{**row, "sum": _sum_records(row["records"])} for row in shown.get("rows", [])]
    grid_map = {}
    for row in by_grid.get("rows", []):
        s = _sum_records(row["records"])
        grid_map[row["code"]] = {
            "name": row["name"],
            "verified": s["verified"],
            "total": s["total"],
            "percent": s["percent"],
            "class": _map_class(s["percent"], s["total"]),
        }
    state = request.GET.get("state", "")
    if state not in TaskState.values:
        state = ""
    tasks = selectors.campaign_tasks(actor=scope, campaign=campaign, state=state)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "total": by_grid,
            "sum": _sum_records(by_grid["records"]),
            "kinds": [(k, str(Kind(k).label) if k in Kind else k) for k in campaign.kinds],
            "outcomes": Outcome.choices,
            "level": level,
            "levels": list(LEVEL_LABELS.items()),
            "rows": rows,
            "people": selectors.progress_by_person(actor=scope, campaign=campaign),
            "states": _state_labels(),
            "state": state,
            "tasks": tasks,
            "workdays_left": selectors.workdays_left(campaign),
            "regions": selectors.campaign_summaries(actor=scope, campaigns=[campaign])[campaign.pk][
                "regions"
            ],
            "grid_map": json.dumps(grid_map, ensure_ascii=False),
            "map_classes": MAP_CLASSES,
            "abilities": selectors.campaign_abilities(actor=scope, campaign=campaign),
        },
    )


@login_required
@require_POST
def campaign_close(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:
        services.campaign_close(actor=_actor(request), campaign_id=campaign_id)
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The campaign is closed."))
    return redirect("campaigns:detail", campaign_id=campaign_id)


@login_required
def campaign_quality(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = _actor(request)
    campaign = selectors.campaign_get(actor=scope, campaign_id=campaign_id)
    rows = selectors.quality_report(actor=scope, campaign=campaign)
    measures = [
        ("total", _("Records")),
        ("complete", _("Required fields complete")),
        ("valid", _("Codes valid")),
        ("duplicates", _("Suspected duplicates")),
        ("never_verified", _("Never verified")),
        ("stale", _("Not verified for a year")),
    ]
    kinds = {k: str(v) for k, v in Kind.choices}
    return render(
        request,
        "campaigns/quality.html",
        {
            "campaign": campaign,
            "measures": measures,
            "rows": [
                {
                    **r,
                    "kind_label": kinds.get(r["kind"], r["kind"]),
                    "pairs": [(r["before"].get(m, 0), r["now"].get(m, 0)) for m, _l in measures],
                }
                for r in rows
            ],
        },
    )


@login_required
def campaign_report(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The progress workbook (one sheet per level)."""
    scope = _actor(request)
    campaign = selectors.campaign_get(actor=scope, campaign_id=campaign_id)
    body = exports.progress_workbook(actor=scope, campaign=campaign)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


# -- a task ---------------------------------------------------------------------------------


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    scope = _actor(request)
    task = selectors.task_get(actor=scope, task_id=task_id)
    status = request.GET.get("status", "")
    if status not in RecordStatus.values:
        status = ""
    records = selectors.task_records(actor=scope, task=task, status=status)
    kinds = {k: str(v) for k, v in Kind.choices}
    statuses = {k: str(v) for k, v in RecordStatus.choices}
    outcomes = {k: str(v) for k, v in Outcome.choices}
    for r in records:
        r["kind_label"] = kinds.get(r["kind"], r["kind"])
        r["status_label"] = statuses.get(r["status"], r["status"])
        r["outcome_label"] = outcomes.get(r["outcome"], "")
        place = r.get("place") or {}
        r["where"] = " ".join(
            str(place[k]) for k in ("estate", "building", "unit", "room") if place.get(k)
        )
    roles = {k: str(v) for k, v in AssigneeRole.choices}
    assignees = [
        {"a": a, "role_label": roles.get(a.role, a.role)}
        for a in selectors.task_assignees(actor=scope, task=task)
    ]
    abilities = selectors.task_abilities(actor=scope, task=task)
    conflicts = selectors.conflicts(actor=scope, task=task)
    for c in conflicts:
        labels = _field_labels(c["kind"])
        for r in c["rows"]:
            r["field_label"] = labels.get(r["field"], r["field"])
    history = [
        {
            "at": a.at,
            "actor_name": a.actor_name,
            "reason": a.reason,
            "label": str(HISTORY_LABELS.get(a.action, a.action)),
        }
        for a in selectors.task_history(actor=scope, task=task)
    ]
    now = timezone.now()
    held = bool(task.held_until and task.held_until > now)
    return render(
        request,
        "campaigns/task.html",
        {
            "task": task,
            "campaign": task.campaign,
            "state_label": TaskState(task.state).label,
            "records": records,
            "status": status,
            "statuses": list(statuses.items()),
            "assignees": assignees,
            "roles": AssigneeRole.choices,
            "history": history,
            "conflicts": conflicts,
            "abilities": abilities,
            "held": held,
            "held_mine": held and task.held_by_id == request.user.pk,
            "held_until": task.held_until.isoformat() if held and task.held_until else "",
            "awaiting_review": task.state in (TaskState.SUBMITTED, TaskState.REVIEWED),
            "visits": bool(task.campaign.spec.get("visits")),
            "can_split": task.parent_id is None and task.state == TaskState.ASSIGNED,
        },
    )


@login_required
@require_POST
def task_act(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    scope = _actor(request)
    p = request.POST
    version = _version(request)
    try:
        if action == "take":
            services.task_take(actor=scope, task_id=task_id)
        elif action == "release":
            services.task_release(actor=scope, task_id=task_id)
        elif action == "start":
            services.task_start(actor=scope, task_id=task_id)
        elif action == "submit":
            services.task_submit(actor=scope, task_id=task_id, version=version)
        elif action == "approve":
            services.task_approve(actor=scope, task_id=task_id, version=version)
        elif action == "return":
            services.task_return(
                actor=scope, task_id=task_id, reason=p.get("reason", ""), version=version
            )
        elif action == "assign":
            services.task_assign(
                actor=scope,
                task_id=task_id,
                username=p.get("username", ""),
                role=p.get("role", AssigneeRole.HELPER),
            )
        elif action == "unassign":
            raw = p.get("user_id", "")
            if not raw.isdigit():
                raise ValidationFailed(code="invalid_user", details={"field": "user_id"})
            services.task_unassign(actor=scope, task_id=task_id, user_id=int(raw))
        elif action == "split":
            parts = services.task_split(actor=scope, task_id=task_id, by=p.get("by", "building"))
            messages.success(request, _("The task is split into %(n)d parts.") % {"n": len(parts)})
            return redirect("campaigns:task", task_id=task_id)
        else:
            raise NotFound()
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ACTION_MESSAGES[action])
    return redirect("campaigns:task", task_id=task_id)


@login_required
@require_POST
def conflict_resolve(request: HttpRequest, edit_id: int) -> HttpResponse:
    scope = _actor(request)
    task_raw = request.POST.get("task", "")
    try:
        edit = services.conflict_resolve(
            actor=scope, edit_id=edit_id, choice=request.POST.get("choice", "")
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        if task_raw.isdigit():
            return redirect("campaigns:task", task_id=int(task_raw))
        raise NotFound() from None
    messages.success(
        request,
        _("The ledger's value is kept.")
        if edit.resolution == "server"
        else _("The field value is applied."),
    )
    return redirect("campaigns:task", task_id=edit.task_id)


@login_required
def visit_sheet(request: HttpRequest, task_id: int) -> HttpResponse:
    """The printable 入户走访登记表 of a task: households with address and members, masked,
    with blank columns for the outcome and the signature."""
    scope = _actor(request)
    task = selectors.task_get(actor=scope, task_id=task_id)
    sheet = exports.visit_sheet(actor=scope, task=task)
    response = render(
        request, "campaigns/visit_sheet.html", {"task": task, "sheet": sheet, "c": task.campaign}
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("", campaign_list, name="list"),
    path("new/", campaign_new, name="new"),
    path("priority/", priority, name="priority"),
    path("<int:campaign_id>/", campaign_detail, name="detail"),
    path("<int:campaign_id>/close/", campaign_close, name="close"),
    path("<int:campaign_id>/quality/", campaign_quality, name="quality"),
    path("<int:campaign_id>/report.xlsx", campaign_report, name="report"),
    path("tasks/<int:task_id>/", task_detail, name="task"),
    path("tasks/<int:task_id>/act/<str:action>/", task_act, name="task_act"),
    path("tasks/<int:task_id>/visit-sheet/", visit_sheet, name="visit_sheet"),
    path("conflicts/<int:edit_id>/resolve/", conflict_resolve, name="resolve"),
]
