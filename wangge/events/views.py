"""Event pages: inboxes, one event (timeline, map, photos, actions), the grid worker's phone
report page, the hotline form, the residents' public report and tracking pages, indicators,
notifications, the calendar and categories.

Adapters only: who may see or do what is decided by the selectors and services these call
(and a NotFound from them is the same 404 page for missing and out of scope)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wangge.core import dates, tables
from wangge.core import selectors as core_selectors
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.personal import mask_name, mask_phone
from wangge.core.scope import Scope, scope_for
from wangge.core.tables import sort_key
from wangge.events import intake, selectors, services, workflow
from wangge.events.models import Category, Channel, Event, LimitUnit, Status
from wangge.events.public import RESIDENT
from wangge.events.rules import RULES, Param
from wangge.regions.basemap import tile_url
from wangge.regions.selectors import (
    boundary_current_geojson,
    public_grid_outlines,
    region_path_names,
)


def _actor(request: HttpRequest) -> Scope:
    return scope_for(request.user)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    boxes = selectors.boxes_for(actor=scope)
    box = request.GET.get("box") or "todo"
    if box not in boxes:
        box = "todo"
    listed, problems = _inbox_filters(request)
    for problem in problems:  # a date that is no date is said, not silently dropped
        messages.error(request, problem)
    # What the filter form shows again (the dashboard's numbers link here with ?open=1 and a
    # period of creation: since inclusive, until exclusive, as on the indicators page).
    f = {k: listed[k] for k in ("status", "grid", "category", "q")}
    if listed["since"]:
        f["since"] = timezone.localtime(listed["since"]).date().isoformat()
    if listed["until"]:
        f["until"] = timezone.localtime(listed["until"]).date().isoformat()
    if listed["open_only"]:
        f["open"] = "1"
    grid = listed.pop("grid")
    grid_hint = ""
    try:
        qs = selectors.event_list(actor=scope, box=box, grid=grid, **listed)
    except ValidationFailed as exc:  # a region name that names no region: say so
        grid_hint = exc.message
        qs = selectors.event_list(actor=scope, box=box, **listed).none()
    page = tables.page(request, qs)
    counts = selectors.box_counts(actor=scope, boxes=[b for b in boxes if b != "all"])
    return render(
        request,
        "events/inbox.html",
        {
            "page": page,
            "box": box,
            "boxes": [(b, selectors.BOX_LABELS[b], counts.get(b)) for b in boxes],
            "filters": f,
            "grid_hint": grid_hint,
            "statuses": Status.choices,
            "majors": selectors.category_majors(actor=scope),
            "now": timezone.now(),
            "default_sort": selectors.event_sort_default(box),
            "current_sort": sort_key(
                listed["sort"], selectors.EVENT_SORTS, selectors.event_sort_default(box)
            ),
            "sort_choices": _sort_choices(_INBOX_SORT_LABELS, closed=box == "closed"),
            "xlsx_url": reverse("events:inbox_xlsx"),
            "saved_filters": core_selectors.saved_filters(actor=scope, list_name="events.inbox"),
            "saved_list": "events.inbox",
            "can_report": selectors.events_abilities(actor=scope)["can_report"],
        },
    )


_INBOX_SORT_LABELS = {
    "due": gettext_lazy("Deadline"),
    "number": gettext_lazy("Number"),
    "closed": gettext_lazy("Closed at"),
    "grid": gettext_lazy("Grid"),
    "category": gettext_lazy("Category"),
    "status": gettext_lazy("Status"),
    "tier": gettext_lazy("Tier"),
    "title": gettext_lazy("Title"),
}


def _sort_choices(labels: dict[str, Any], *, closed: bool) -> list[tuple[str, str]]:
    """The sort menu (for phones, where the table's headers are not shown): each key up
    (↑, smallest or earliest first) and down."""
    return [
        (f"{sign}{key}", f"{label} {arrow}")
        for key, label in labels.items()
        if closed or key != "closed"
        for sign, arrow in (("", "↑"), ("-", "↓"))
    ]


def _inbox_filters(request: HttpRequest) -> tuple[dict[str, Any], list[str]]:
    """The inbox's filters from the query string (the page and its export read the same)."""
    f: dict[str, Any] = {
        k: request.GET.get(k, "").strip() for k in ("status", "grid", "category", "q")
    }
    since, until, problems = _period(request)
    return (
        {
            "status": f["status"],
            "grid": f["grid"],
            "category": f["category"],
            "q": f["q"],
            "since": _aware(since),
            "until": _aware(until),
            "open_only": request.GET.get("open") == "1",
            "sort": request.GET.get("sort", ""),
        },
        problems,
    )


@login_required
def inbox_xlsx(request: HttpRequest) -> HttpResponse:
    """The inbox as its table shows it (box, filters, sort), as an Excel workbook: every row,
    not one page (services.events_export scopes, limits and audits it)."""
    scope = _actor(request)
    boxes = selectors.boxes_for(actor=scope)
    box = request.GET.get("box") or "todo"
    if box not in boxes:
        box = "todo"
    filters, problems = _inbox_filters(request)
    back = f"{reverse('events:inbox')}?{request.GET.urlencode()}".rstrip("?")
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(back)
    try:
        data = services.events_export(actor=scope, box=box, **filters)
    except NotFound:
        raise
    except WanggeError as exc:  # a region that is none, too many rows: said on the list
        messages.error(request, exc.message)
        return redirect(back)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    day = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="events-{box}-{day}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


def _action_forms(event: Event, actions: list[str], duplicates: list[Event]) -> list[Any]:
    """The page's form of each action offered, made from the action's rule (`rules.RULES`):
    its fields in order, with their choices and first values, and whether it takes photos."""
    suggested = {"into": duplicates[0].pk} if duplicates else {}
    forms = []
    for name in actions:
        rule = RULES[name]
        forms.append(
            {
                "name": name,
                "label": rule.label,
                "fields": [_field(param, event, suggested) for param in rule.params],
                "photos": rule.photos is not None,
            }
        )
    return forms


def _field(param: Param, event: Event, suggested: dict[str, Any]) -> dict[str, Any]:
    if param.name in suggested:
        value = suggested[param.name]
    else:
        value = param.initial(event) if param.initial else ""
    return {
        "param": param,
        "options": param.options() if param.options else None,
        "value": "" if value is None else str(value),
    }


def _detail(request: HttpRequest, event: Event, revealed: dict[str, str] | None) -> HttpResponse:
    scope = _actor(request)
    duplicates = selectors.event_duplicates(actor=scope, event=event)
    abilities = selectors.event_abilities(actor=scope, event=event)
    departments = core_selectors.department_names()
    timeline = selectors.event_timeline(actor=scope, event=event)
    forms = _action_forms(event, abilities["actions"], duplicates)
    primary = [f for f in forms if f["name"] == abilities["primary"]]
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "place": region_path_names(actor=scope, code=event.grid_code),
            "boundary": boundary_current_geojson(actor=scope, code=event.grid_code) or "null",
            "actions": _labelled(timeline, departments),
            "steps": selectors.event_steps(event=event, timeline=timeline),
            "photos": selectors.event_photos(actor=scope, event=event),
            "forms": forms,
            "primary": primary[0] if primary else None,
            "secondary": [f for f in forms if f["name"] != abilities["primary"]],
            "department_name": departments.get(event.handler_department)
            or event.handler_department,
            "duplicates": duplicates,
            "reporter_name": mask_name(event.reporter_name),
            "reporter_phone": mask_phone(event.reporter_phone) if event.reporter_phone else "",
            "can_reveal": abilities["can_reveal"],
            "revealed": revealed,
            "now": timezone.now(),
            "tile_url": tile_url(),
        },
    )


@login_required
def detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(actor=_actor(request), event_id=event_id)
    return _detail(request, event, revealed=None)


_EXTRA_LABELS = {
    "intake": gettext_lazy("Reported"),
    "overdue": gettext_lazy("Overdue"),
    "escalate": gettext_lazy("Overdue, escalated"),
    "regrid": gettext_lazy("Moved to another grid (restructure)"),
}


def _labelled(actions: list[Any], departments: dict[str, str]) -> list[Any]:
    for a in actions:
        rule = RULES.get(a.action)
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
    p = request.POST
    params: dict[str, Any] = {}
    for name in ("department", "amount", "unit", "passed", "kind", "satisfaction", "into", "note"):
        if p.get(name):
            params[name] = p[name]
    raw_version = p.get("version", "")
    if raw_version and not raw_version.isdigit():
        messages.error(request, _("The page is out of date. Reload it and try again."))
        return redirect("events:detail", event_id=event_id)
    try:
        event = workflow.transition(
            _actor(request),
            event_id,
            action,
            reason=p.get("reason", ""),
            expected_version=int(raw_version) if raw_version else None,
            photos=[f.read() for f in request.FILES.getlist("photos")],
            **params,
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _done(action, event))
    return redirect("events:detail", event_id=event_id)


_DONE: dict[str, Any] = {
    "accept": gettext_lazy("Accepted."),
    "reject": gettext_lazy("Not accepted."),
    "self_resolve": gettext_lazy("Resolved in the grid; waiting for verification."),
    "return": gettext_lazy("Returned to the command centre."),
    "handle": gettext_lazy("Handling started."),
    "report": gettext_lazy("Report sent; waiting for verification."),
    "request_extension": gettext_lazy("More time asked for."),
    "extend": gettext_lazy("Deadline extended."),
    "park": gettext_lazy("Parked."),
    "unpark": gettext_lazy("Resumed."),
    "close": gettext_lazy("Closed."),
    "close_special": gettext_lazy("Closed as special."),
    "supervise": gettext_lazy("Supervision sent."),
    "callback": gettext_lazy("Call-back recorded."),
}


def _done(action: str, event: Event) -> str:
    """What happened, in words ("已派遣至城管"), not "done: dispatch"."""
    if action in {"dispatch", "assign"}:
        department = core_selectors.department_names().get(
            event.department_code, event.department_code
        )
        if action == "dispatch":
            return _("Dispatched to %(department)s.") % {"department": department}
        return _("Assigned to %(department)s.") % {"department": department}
    if action == "verify":
        if event.status == Status.VERIFIED:
            return _("Verified: ready to close.")
        return _("Not verified: back to the handler.")
    if action == "merge":
        into = event.merged_into.number if event.merged_into else ""
        return _("Merged into %(number)s.") % {"number": into}
    return str(_DONE.get(action) or RULES[action].label)


@login_required
@require_POST
def reporter_reveal(request: HttpRequest, event_id: int) -> HttpResponse:
    """The reporter's phone or name, shown in this response only: a value put in the session
    would outlive the look it was revealed for (security finding 5)."""
    scope = _actor(request)
    field = request.POST.get("field", "reporter_phone")
    try:
        value = services.reporter_reveal(
            actor=scope, event_id=event_id, field=field, reason=request.POST.get("reason", "")
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect("events:detail", event_id=event_id)
    event = selectors.event_get(actor=scope, event_id=event_id)
    response = _detail(request, event, revealed={"field": field, "value": value})
    response["Cache-Control"] = "no-store"
    return response


def _report_form_context(actor: Scope, *, public: bool) -> dict[str, Any]:
    majors: dict[str, list[Category]] = {}
    names: dict[str, str] = {}
    for c in selectors.categories(actor=actor):
        if c.parent_id is None:
            names[c.code] = c.name
        else:
            majors.setdefault(c.parent.code if c.parent else "", []).append(c)
    return {
        "groups": [(names.get(code, code), items) for code, items in majors.items()],
        "idempotency_key": uuid.uuid4().hex,
        "tile_url": tile_url(),
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


def _photos(request: HttpRequest) -> list[bytes]:
    return [f.read() for f in request.FILES.getlist("photos")]


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """The grid worker's phone page. With JavaScript, reports are queued on the phone and sent
    with their idempotency key until the server has them; without, the form posts here."""
    scope = _actor(request)
    grids = selectors.report_grids(actor=scope)
    if request.method == "POST":
        try:
            result = intake.event_report(
                scope,
                _report_from_post(request, Channel.PATROL),
                idempotency_key=request.POST.get("idempotency_key", ""),
                photos=_photos(request),
            )
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Reported: %(number)s.") % {"number": result.event.number})
            return redirect("events:detail", event_id=result.event.pk)
    return render(
        request,
        "events/report.html",
        _report_form_context(scope, public=False)
        | {"my_grids": grids, "post": request.POST if request.method == "POST" else {}},
    )


@login_required
def hotline(request: HttpRequest) -> HttpResponse:
    """The 12345 operator's form (and assignment from a higher level for command roles)."""
    scope = _actor(request)
    channels = selectors.hotline_channels(actor=scope)
    if request.method == "POST":
        channel = request.POST.get("channel") or Channel.HOTLINE
        try:
            if channel not in selectors.HOTLINE_CHANNELS:
                raise ValidationFailed(_("Choose the hotline, a petition or an assignment."))
            # Intake decides whether this actor may use this channel here (and says why not).
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
        | {
            "can_assign": Channel.ASSIGNED in channels,
            "can_look_up_callers": selectors.events_abilities(actor=scope)["can_look_up_callers"],
            "post": request.POST if request.method == "POST" else {},
        },
    )


@login_required
@require_POST
def hotline_caller(request: HttpRequest) -> HttpResponse:
    """The caller's earlier reports (htmx, from the hotline form): a repeat call shows. The
    number is POSTed, never put in a URL; the search is scoped, rate-limited and audited."""
    scope = _actor(request)
    selectors.hotline_channels(actor=scope)  # the hotline's own users only (NotFound else)
    problem, found, status = "", [], 200
    try:
        found = selectors.events_by_caller(
            actor=scope, phone=request.POST.get("reporter_phone", "")
        )
    except NotFound:
        raise
    except WanggeError as exc:
        # Said in the form (htmx swaps a 200): no full number, or this hour's searches used.
        problem = exc.message
        status = 403 if isinstance(exc, PermissionDenied) else 200
    response = render(
        request,
        "events/_caller.html",
        {"problem": problem, "events": found},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _grid_param(text: str) -> str:
    return text if len(text) == 15 and text.isascii() and text.isdigit() else ""


def public_report(request: HttpRequest) -> HttpResponse:
    """A resident's report: no login; answers with a tracking code. Intake limits how many
    reports one address may send an hour, and refuses a bad photo before the report is made
    (so a resident never loses the tracking code of a report that went in)."""
    if request.method == "POST":
        try:
            result = intake.event_report(
                RESIDENT,
                _report_from_post(request, Channel.RESIDENT),
                idempotency_key=request.POST.get("idempotency_key", ""),
                key_owner="public",
                photos=_photos(request),
            )
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            track = reverse("events:public_track")
            return redirect(f"{track}?code={result.event.tracking_code}&new=1")
    return render(
        request,
        "events/public_report.html",
        _report_form_context(RESIDENT, public=True)
        | {
            "post": request.POST if request.method == "POST" else {},
            # From the QR code on a grid's notice card: the map opens on that grid.
            "focus_grid": _grid_param(request.GET.get("grid", "")),
        },
    )


def public_grids(request: HttpRequest) -> HttpResponse:
    """Grid outlines for the residents' map (grid names and areas are posted publicly anyway,
    滨州 regulation); no people, no counts."""
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name},
            "geometry": json.loads(geojson),
        }
        for code, name, geojson in public_grid_outlines(actor=RESIDENT)
    ]
    response = HttpResponse(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        content_type="application/geo+json",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def public_track(request: HttpRequest) -> HttpResponse:
    """Status of a report by its tracking code: no names, no internal notes."""
    code = request.GET.get("code", "").strip()
    event = None
    steps: list[Any] = []
    if code:
        try:
            event = selectors.event_by_tracking_code(actor=RESIDENT, code=code)
        except NotFound:
            messages.error(request, _("No report has this tracking code."))
        else:
            timeline = selectors.event_timeline(actor=RESIDENT, event=event)
            steps = _labelled(timeline, core_selectors.department_names())
    return render(
        request,
        "events/public_track.html",
        {"event": event, "steps": steps, "code": code, "new": request.GET.get("new") == "1"},
    )


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


def _aware(day: dt.date | None) -> dt.datetime | None:
    return dates.day_start(day) if day else None  # the page's "until" is exclusive


@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    by = request.GET.get("by") or "street"
    if by not in selectors.DIMENSIONS:
        by = "street"
    since, until, problems = _period(request)
    for problem in problems:
        messages.error(request, problem)
    rows = selectors.indicators(
        actor=_actor(request), by=by, since=_aware(since), until=_aware(until)
    )
    for row in rows:
        row["name"] = row["name"] or _("(not dispatched)")
    return render(
        request,
        "events/indicators.html",
        {
            "rows": rows,
            "total": selectors.indicators_total(rows),
            "by": by,
            "dimensions": list(selectors.DIMENSION_LABELS.items()),
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
    since, until, problems = _period(request)
    if problems:  # a workbook cannot show a message: back to the page, with the dates it took
        for problem in problems:
            messages.error(request, problem)
        good = {k: v.isoformat() for k, v in {"since": since, "until": until}.items() if v}
        return redirect(f"{reverse('events:indicators')}?{urlencode(good)}".rstrip("?"))
    response = HttpResponse(
        services.indicators_export(actor=_actor(request), since=_aware(since), until=_aware(until)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="event-indicators.xlsx"'
    return response


@login_required
def events_map(request: HttpRequest) -> HttpResponse:
    boxes = selectors.boxes_for(actor=_actor(request))
    box = request.GET.get("box", "all")
    if box not in boxes:
        box = "all"
    return render(
        request,
        "events/map.html",
        {
            "points_url": reverse("api:event_points") + f"?box={box}",
            "box": box,
            "tile_url": tile_url(),
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    if request.method == "POST":
        services.notifications_read(actor=scope)
        return redirect("events:notifications")
    items = selectors.notifications(actor=scope)[:200]
    return render(request, "events/notifications.html", {"items": items})


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
        month = int(request.GET.get("month") or today.month)
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    if request.method == "POST":
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
    days = selectors.calendar_month(actor=scope, year=year, month=month)
    lead = [None] * days[0]["date"].weekday()
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
            "can_edit": selectors.events_abilities(actor=scope)["can_configure"],
            "office_hours": settings.EVENTS_OFFICE_HOURS,
        },
    )


@login_required
def categories(request: HttpRequest) -> HttpResponse:
    scope = _actor(request)
    if request.method == "POST":
        code = request.POST.get("code", "")
        try:
            fields: dict[str, Any] = {
                "self_resolve": request.POST.get("self_resolve") == "on",
                "public": request.POST.get("public") == "on",
                "active": request.POST.get("active") == "on",
                "department": request.POST.get("department") or None,
            }
            for stage in ("accept", "handle", "verify"):
                fields[f"{stage}_limit"] = request.POST.get(f"{stage}_limit", "")
                fields[f"{stage}_unit"] = request.POST.get(f"{stage}_unit", "")
            category = services.category_update(actor=scope, code=code, **fields)
        except NotFound:
            raise
        except WanggeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Category %(name)s saved.") % {"name": category.name})
        return redirect("events:categories")
    return render(
        request,
        "events/categories.html",
        {
            "categories": selectors.categories(actor=scope),
            "can_edit": selectors.events_abilities(actor=scope)["can_configure"],
            "departments": core_selectors.departments(),
            "units": LimitUnit.choices,
        },
    )
