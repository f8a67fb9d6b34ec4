"""Event pages: inboxes, one event (timeline, map, photos, actions), the grid worker's phone
report page, the hotline form, the residents' public report and tracking pages, indicators,
notifications, the calendar and categories."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.core import dates
from wangge.core.errors import NotFound, WanggeError
from wangge.core.personal import mask_name, mask_phone, reveal
from wangge.core.roles import Perm
from wangge.core.scope import Scope, scope_requiring
from wangge.events import calendar, intake, selectors, services, workflow
from wangge.events.models import Category, Channel, CloseKind, LimitUnit, Status

BOX_LABELS = {
    "todo": gettext_lazy("To do"),
    "mine": gettext_lazy("My grid"),
    "department": gettext_lazy("Department queue"),
    "overdue": gettext_lazy("Overdue"),
    "verify": gettext_lazy("Waiting for verification"),
    "pending": gettext_lazy("Waiting for acceptance"),
    "closed": gettext_lazy("Closed"),
    "all": gettext_lazy("All"),
}


def _need(request: HttpRequest, perm: Perm) -> Scope:
    return scope_requiring(request.user, perm)


def _boxes(scope: Scope) -> list[str]:
    boxes = ["todo"]
    if any(len(g.region_code) == 15 for g in scope.grants_for(Perm.EVENTS_REPORT)):
        boxes.append("mine")
    if scope.has(Perm.EVENTS_HANDLE):
        boxes.append("department")
    boxes.append("overdue")
    if scope.has(Perm.EVENTS_VERIFY) or scope.has(Perm.EVENTS_COMMAND):
        boxes.append("verify")
    if scope.has(Perm.EVENTS_COMMAND):
        boxes.append("pending")
    return [*boxes, "closed", "all"]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    boxes = _boxes(scope)
    box = request.GET.get("box") or "todo"
    if box not in boxes:
        box = "todo"
    f = {k: request.GET.get(k, "").strip() for k in ("status", "grid", "category", "q")}
    qs = selectors.event_list(
        actor=scope, box=box, status=f["status"], grid=f["grid"], category=f["category"], q=f["q"]
    ).order_by("due_at", "-id")
    if box in {"closed", "all"}:
        qs = qs.order_by("-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = {b: selectors.event_list(actor=scope, box=b).count() for b in boxes if b != "all"}
    return render(
        request,
        "events/inbox.html",
        {
            "page": page,
            "box": box,
            "boxes": [(b, BOX_LABELS[b], counts.get(b)) for b in boxes],
            "filters": f,
            "statuses": Status.choices,
            "majors": Category.objects.filter(parent__isnull=True, active=True),
            "now": timezone.now(),
            "querystring_base": urlencode({"box": box, **{k: v for k, v in f.items() if v}}) + "&",
            "can_report": scope.has(Perm.EVENTS_REPORT),
        },
    )


_ACTION_FIELDS: dict[str, list[str]] = {
    "reject": ["reason"],
    "dispatch": ["department"],
    "assign": ["department"],
    "return": ["reason"],
    "report": ["note", "photos"],
    "self_resolve": ["note", "photos"],
    "request_extension": ["amount", "unit", "reason"],
    "extend": ["amount", "unit", "reason"],
    "park": ["reason"],
    "verify": ["passed", "reason", "photos"],
    "close_special": ["kind", "reason"],
    "supervise": ["reason"],
    "callback": ["satisfaction", "note"],
    "merge": ["into", "reason"],
}


@login_required
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    event = selectors.event_get(actor=scope, event_id=event_id)
    from wangge.core.models import Department
    from wangge.regions.selectors import boundary_current, region_ancestors, region_get

    try:
        grid = region_get(actor=scope, code=event.grid_code)
        place = [r.name for r in region_ancestors(grid)] + [grid.name]
        current = boundary_current(grid)
        boundary = current.geojson if current else "null"
    except NotFound:  # a grant without regions.view: the event's own point is enough
        place, boundary = [event.grid_code], "null"
    allowed = workflow.allowed_actions(scope, event)
    duplicates = (
        intake.duplicate_candidates(
            event.category_id,
            event.lon,
            event.lat,
            now=event.created_at,
            exclude=event.pk,
            scope=scope,
        )
        if event.is_open
        else []
    )
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "place": place,
            "boundary": boundary,
            "actions": _labelled(selectors.event_timeline(event)),
            "photos": list(event.photos.all()),
            "allowed": [
                (a, workflow.RULES[a].label, _ACTION_FIELDS.get(a, []), workflow.RULES[a].reason)
                for a in allowed
            ],
            "departments": Department.objects.all(),
            "department_name": Department.objects.filter(code=event.handler_department)
            .values_list("name", flat=True)
            .first()
            or event.handler_department,
            "units": LimitUnit.choices,
            "special_kinds": [
                (CloseKind.SPECIAL, CloseKind.SPECIAL.label),
                (CloseKind.ERRONEOUS, CloseKind.ERRONEOUS.label),
            ],
            "satisfaction": list(workflow.SATISFACTION.items()),
            "duplicates": duplicates,
            "reporter_name": mask_name(event.reporter_name),
            "reporter_phone": mask_phone(event.reporter_phone) if event.reporter_phone else "",
            "can_reveal": scope.has(Perm.PERSONAL_REVEAL) and bool(event.reporter_phone),
            "revealed": request.session.pop("revealed_event", None),
            "now": timezone.now(),
            "tile_url": settings.TILE_URL,
        },
    )


_EXTRA_LABELS = {
    "intake": gettext_lazy("Reported"),
    "overdue": gettext_lazy("Overdue"),
    "escalate": gettext_lazy("Overdue, escalated"),
}


def _labelled(actions: list[Any]) -> list[Any]:
    from wangge.core.models import Department

    departments = dict(Department.objects.values_list("code", "name"))
    for a in actions:
        rule = workflow.RULES.get(a.action)
        a.label = _EXTRA_LABELS.get(a.action) or (rule.label if rule else a.action)
        a.to_label = Status(a.to_status).label if a.to_status in Status.values else ""
        code = (a.details or {}).get("department", "")
        a.department_name = departments.get(code, code)
        if a.actor_id is None and a.actor_name == "deadline-scan":
            a.actor_name = _("System (deadline scan)")
    return actions


@login_required
@require_POST
def act(request: HttpRequest, event_id: int, action: str) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    p = request.POST
    params: dict[str, Any] = {}
    for name in ("department", "amount", "unit", "passed", "kind", "satisfaction", "into", "note"):
        if p.get(name):
            params[name] = p[name]
    raw_version = p.get("version", "")
    if raw_version and not raw_version.isdigit():
        messages.error(request, _("The page is out of date. Reload it and try again."))
        return redirect("events:detail", event_id=event_id)
    version = int(raw_version) if raw_version else None
    try:
        from django.db import transaction

        with transaction.atomic():
            event = workflow.transition(
                scope,
                event_id,
                action,
                reason=p.get("reason", ""),
                expected_version=version,
                **params,
            )
            files = [f.read() for f in request.FILES.getlist("photos")]
            if files:
                stage = {"verify": "verify", "report": "handle", "self_resolve": "handle"}.get(
                    action, "report"
                )
                services.photos_add(actor=scope, event=event, files=files, stage=stage)
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done: %(action)s.") % {"action": workflow.RULES[action].label})
    return redirect("events:detail", event_id=event_id)


@login_required
@require_POST
def reporter_reveal(request: HttpRequest, event_id: int) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    event = selectors.event_get(actor=scope, event_id=event_id)
    field = request.POST.get("field", "reporter_phone")
    if field not in {"reporter_phone", "reporter_name"}:
        raise NotFound()
    try:
        reveal(
            actor=scope,
            object_type="event",
            object_id=event.pk,
            field=field,
            reason=request.POST.get("reason", ""),
        )
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        request.session["revealed_event"] = {"field": field, "value": getattr(event, field)}
    return redirect("events:detail", event_id=event_id)


def _report_form_context(scope: Scope | None, *, public: bool) -> dict[str, Any]:
    cats = selectors.categories(public_only=public)
    majors: dict[str, list[Category]] = {}
    names: dict[str, str] = {}
    for c in cats:
        if c.parent_id is None:
            names[c.code] = c.name
        else:
            majors.setdefault(c.parent.code if c.parent else "", []).append(c)
    return {
        "groups": [(names.get(code, code), items) for code, items in majors.items()],
        "idempotency_key": uuid.uuid4().hex,
        "tile_url": settings.TILE_URL,
        "boundaries_url": reverse("events:public_grids")
        if public
        else reverse("api:grids_geojson"),
    }


def _report_from_post(request: HttpRequest, channel: str) -> intake.Report:
    p = request.POST

    def number(name: str) -> float | None:
        try:
            return float(p[name]) if p.get(name) else None
        except ValueError:
            return None

    return intake.Report(
        category=p.get("category", ""),
        title=p.get("title", ""),
        description=p.get("description", ""),
        lon=number("lon"),
        lat=number("lat"),
        crs=p.get("crs") or "wgs84",
        address=p.get("address", ""),
        grid_code=p.get("grid_code", ""),
        reporter_name=p.get("reporter_name", ""),
        reporter_phone=p.get("reporter_phone", ""),
        channel=channel,
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The grid worker's phone page. With JavaScript, reports are queued on the phone and sent
    with their idempotency key until the server has them; without, the form posts here."""
    scope = _need(request, Perm.EVENTS_REPORT)
    if request.method == "POST":
        try:
            result = intake.event_report(
                scope,
                _report_from_post(request, Channel.PATROL),
                idempotency_key=request.POST.get("idempotency_key", ""),
            )
            files = [f.read() for f in request.FILES.getlist("photos")]
            if files and result.created:
                services.photos_add(actor=scope, event=result.event, files=files, stage="report")
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Reported: %(number)s.") % {"number": result.event.number})
            return redirect("events:detail", event_id=result.event.pk)
    grids = [g.region_code for g in scope.grants_for(Perm.EVENTS_REPORT)]
    return render(
        request,
        "events/report.html",
        _report_form_context(scope, public=False) | {"my_grids": grids},
    )


@login_required
def hotline(request: HttpRequest) -> HttpResponse:
    """The 12345 operator's form (and assignment from a higher level for command roles)."""
    scope = _need(request, Perm.EVENTS_REPORT)
    can_assign = scope.has(Perm.EVENTS_COMMAND)
    if request.method == "POST":
        channel = request.POST.get("channel") or Channel.HOTLINE
        if channel not in {Channel.HOTLINE, Channel.ASSIGNED, Channel.PETITION} or (
            channel == Channel.ASSIGNED and not can_assign
        ):
            channel = Channel.HOTLINE
        try:
            result = intake.event_report(
                scope,
                _report_from_post(request, channel),
                idempotency_key=request.POST.get("idempotency_key", ""),
            )
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Registered %(number)s. Tracking code for the caller: %(code)s")
                % {"number": result.event.number, "code": result.event.tracking_code or "—"},
            )
            return redirect("events:detail", event_id=result.event.pk)
    return render(
        request,
        "events/hotline.html",
        _report_form_context(scope, public=False)
        | {"can_assign": can_assign, "post": request.POST if request.method == "POST" else {}},
    )


PUBLIC = Scope.system("resident")


def _public_reports_last_hour() -> int:
    """Reports from this address in the last hour (from the audit log, which records it)."""
    from wangge.core.context import current
    from wangge.core.models import AuditEntry

    return AuditEntry.objects.filter(
        action="event.create",
        at__gte=timezone.now() - dt.timedelta(hours=1),
        client_ip=current.get().client_ip,
        details__channel=Channel.RESIDENT,
    ).count()


def public_report(request: HttpRequest) -> HttpResponse:
    """A resident's report: no login; answers with a tracking code. An address may send
    WANGGE_PUBLIC_REPORTS_PER_HOUR reports an hour (a page on the internet gets scripted)."""
    if request.method == "POST" and (
        _public_reports_last_hour() >= settings.EVENTS_PUBLIC_REPORTS_PER_HOUR
    ):
        messages.error(
            request, _("Too many reports from your network in the last hour. Please try later.")
        )
    elif request.method == "POST":
        try:
            result = intake.event_report(
                PUBLIC,
                _report_from_post(request, Channel.RESIDENT),
                idempotency_key=request.POST.get("idempotency_key", ""),
                key_owner="public",
            )
            files = [f.read() for f in request.FILES.getlist("photos")]
            if files and result.created:
                services.photos_add(actor=PUBLIC, event=result.event, files=files, stage="report")
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            return redirect(f"{_public_track_url()}?code={result.event.tracking_code}&new=1")
    return render(request, "events/public_report.html", _report_form_context(None, public=True))


def public_grids(request: HttpRequest) -> HttpResponse:
    """Grid outlines for the residents' map (grid names and areas are posted publicly anyway,
    滨州 regulation); no people, no counts."""
    import json

    from wangge.regions.selectors import boundaries_unscoped, region_names_unscoped

    names = region_names_unscoped()
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": names.get(code, code)},
            "geometry": json.loads(geojson),
        }
        for code, geojson in boundaries_unscoped(level="grid")
    ]
    response = HttpResponse(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        content_type="application/geo+json",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _public_track_url() -> str:
    return reverse("events:public_track")


# What a resident sees of the log: the steps, never who or why inside the administration.
PUBLIC_ACTIONS = {
    "intake",
    "report",
    "accept",
    "reject",
    "dispatch",
    "assign",
    "self_resolve",
    "verify",
    "close",
    "close_special",
    "merge",
}


def public_track(request: HttpRequest) -> HttpResponse:
    """Status of a report by its tracking code: no names, no internal notes."""
    code = request.GET.get("code", "").strip()
    event = None
    steps: list[Any] = []
    if code:
        try:
            event = intake.event_by_tracking_code(code)
        except NotFound:
            messages.error(request, _("No report has this tracking code."))
        else:
            steps = _labelled(
                [a for a in selectors.event_timeline(event) if a.action in PUBLIC_ACTIONS]
            )
    return render(
        request,
        "events/public_track.html",
        {"event": event, "steps": steps, "code": code, "new": request.GET.get("new") == "1"},
    )


def _dimensions() -> list[tuple[str, str]]:
    return [
        ("department", _("Department")),
        ("street", _("Street")),
        ("community", _("Community")),
        ("grid", _("Grid")),
    ]


def _period(request: HttpRequest) -> tuple[dt.date | None, dt.date | None, list[str]]:
    """?since= and ?until= as dates, and why a date given is left out (for the page)."""
    days: dict[str, dt.date | None] = {}
    problems = []
    for name in ("since", "until"):
        try:
            days[name] = dates.parse_day(request.GET.get(name, ""), field=name)
        except WanggeError as exc:
            days[name] = None
            problems.append(exc.message)
    return days["since"], days["until"], problems


def _indicator_rows(
    scope: Scope, by: str, since: dt.date | None, until: dt.date | None
) -> list[dict[str, Any]]:
    rows = selectors.indicators(
        actor=scope,
        by=by,
        since=dates.day_start(since) if since else None,
        until=dates.day_start(until) if until else None,  # the page's "until" is exclusive
    )
    names = selectors.dimension_names(by)
    for row in rows:
        row["name"] = names.get(row["key"], row["key"] or _("(not dispatched)"))
    return rows


@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    by = request.GET.get("by") or "street"
    if by not in selectors.DIMENSIONS:
        by = "street"
    since, until, problems = _period(request)
    for problem in problems:
        messages.error(request, problem)
    rows = _indicator_rows(scope, by, since, until)
    return render(
        request,
        "events/indicators.html",
        {
            "rows": rows,
            "total": selectors.indicators_total(rows),
            "by": by,
            "dimensions": _dimensions(),
            "since": since,
            "until": until,
            "export_query": urlencode(
                {k: v for k, v in {"since": since, "until": until}.items() if v}
            ),
        },
    )


@login_required
def indicators_xlsx(request: HttpRequest) -> HttpResponse:
    """The indicators workbook a command centre sends upward: one sheet per dimension."""
    from wangge.core.audit import audit_record
    from wangge.core.tabular import write_xlsx

    scope = _need(request, Perm.EVENTS_VIEW)
    since, until, problems = _period(request)
    if problems:  # a workbook cannot show a message: back to the page, with the dates it took
        for problem in problems:
            messages.error(request, problem)
        good = {k: v.isoformat() for k, v in {"since": since, "until": until}.items() if v}
        return redirect(f"{reverse('events:indicators')}?{urlencode(good)}".rstrip("?"))
    headers = [
        _("Code"),
        _("Name"),
        _("Should close"),
        _("Closed"),
        _("Closed on time"),
        _("Close rate"),
        _("On-time rate"),
        _("Overdue"),
        _("Returned"),
        _("Reworked"),
        _("Extended"),
        _("Parked"),
        _("Avg. handling (h)"),
    ]
    fields = [
        "key",
        "name",
        "should_close",
        "closed",
        "closed_on_time",
        "close_rate",
        "on_time_rate",
        "overdue",
        "returned",
        "reworked",
        "extended",
        "parked",
        "avg_handling_hours",
    ]
    sheets = []
    for by, label in _dimensions():
        rows = _indicator_rows(scope, by, since, until)
        total = selectors.indicators_total(rows) | {"name": _("Total")}
        sheets.append((str(label), headers, [[r.get(f) for f in fields] for r in [*rows, total]]))
    audit_record(
        actor=scope,
        action="event.indicators_export",
        details={"since": str(since or ""), "until": str(until or "")},
    )
    response = HttpResponse(
        write_xlsx(sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="event-indicators.xlsx"'
    return response


@login_required
def events_map(request: HttpRequest) -> HttpResponse:
    _need(request, Perm.EVENTS_VIEW)
    box = request.GET.get("box", "all")
    if box not in BOX_LABELS:
        box = "all"
    return render(
        request,
        "events/map.html",
        {
            "points_url": reverse("api:event_points") + f"?box={box}",
            "box": box,
            "tile_url": settings.TILE_URL,
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    _need(request, Perm.EVENTS_VIEW)
    if request.method == "POST":
        services.notifications_read(user=request.user)
        return redirect("events:notifications")
    items = selectors.notifications(user=request.user)[:200]
    return render(request, "events/notifications.html", {"items": items})


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
        month = int(request.GET.get("month") or today.month)
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    can_edit = scope.has(Perm.EVENTS_CONFIGURE)
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        try:
            day = dates.parse_day(request.POST.get("date", ""), field="date")
        except WanggeError:
            day = None
        choice = request.POST.get("is_workday", "")
        if day is None or choice not in {"1", "0", ""}:
            messages.error(request, _("Choose a date and whether it is worked."))
        else:
            services.calendar_set(
                actor=scope,
                date=day,
                is_workday=None if choice == "" else choice == "1",
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Calendar changed. Deadlines already set do not move."))
        return redirect(f"{request.path}?year={year}&month={month}")
    days = calendar.month(year, month)
    lead = [None] * days[0]["date"].weekday()  # type: ignore[attr-defined]
    prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
    next_m = (year, month + 1) if month < 12 else (year + 1, 1)
    return render(
        request,
        "events/calendar.html",
        {
            "cells": lead + days,
            "year": year,
            "month": month,
            "prev": prev_m,
            "next": next_m,
            "can_edit": can_edit,
            "office_hours": settings.EVENTS_OFFICE_HOURS,
        },
    )


@login_required
def categories(request: HttpRequest) -> HttpResponse:
    scope = _need(request, Perm.EVENTS_VIEW)
    can_edit = scope.has(Perm.EVENTS_CONFIGURE)
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        cat = Category.objects.filter(code=request.POST.get("code", "")).first()
        if cat is None:
            raise NotFound()
        try:
            fields: dict[str, Any] = {
                "self_resolve": request.POST.get("self_resolve") == "on",
                "public": request.POST.get("public") == "on",
                "active": request.POST.get("active") == "on",
            }
            for stage in ("accept", "handle", "verify"):
                fields[f"{stage}_limit"] = int(request.POST.get(f"{stage}_limit", ""))
                fields[f"{stage}_unit"] = request.POST.get(f"{stage}_unit", "")
            from wangge.core.models import Department

            dept = Department.objects.filter(code=request.POST.get("department", "")).first()
            fields["department_id"] = dept.pk if dept else None
            services.category_update(actor=scope, category=cat, **fields)
        except ValueError:
            messages.error(request, _("A time limit must be a whole number."))
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Category %(name)s saved.") % {"name": cat.name})
        return redirect("events:categories")
    from wangge.core.models import Department

    return render(
        request,
        "events/categories.html",
        {
            "categories": selectors.categories(),
            "can_edit": can_edit,
            "departments": Department.objects.all(),
            "units": LimitUnit.choices,
        },
    )
