"""The dashboard's pages: the command centre (/dashboard/), the big screen (/dashboard/screen/)
and the weekly briefing (/dashboard/briefing/). Adapters only: the panels load their numbers
from the API (`dashboard/api.py`), which asks `dashboard.selectors`; what is out of scope is
the same 404 as what does not exist."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from wangge.core import dates
from wangge.core.errors import ValidationFailed
from wangge.core.scope import scope_for
from wangge.dashboard import briefing as weekly
from wangge.dashboard import exports, selectors, services
from wangge.regions.basemap import tile_url


def _labels() -> dict[str, str]:
    """The words the page's script writes (charts, cards): translated here, sent as JSON."""
    return {
        "open": _("Open now"),
        "overdue": _("Overdue now"),
        "reported": _("Reported"),
        "closed": _("Closed"),
        "close_rate": _("结案率"),
        "on_time_rate": _("按期结案率"),
        "target": _("Target"),
        "avg7": _("7-day average"),
        "events": _("Events"),
        "no_data": _("No data"),
        "all": _("All of my scope"),
        "rest": _("Other categories"),
        "should_close": _("Should close"),
        "up": _("up"),
        "down": _("down"),
        "failed": _("The numbers could not be loaded. Try again later."),
        "nothing": _("Nothing to rank in this period."),
        "hours": _("hours"),
    }


def _page(request: HttpRequest, template: str) -> HttpResponse:
    context = selectors.page_context(actor=scope_for(request.user))
    context |= {"labels": _labels(), "tile_url": tile_url()}
    return render(request, template, context)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/home.html")


@login_required
def screen(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/screen.html")


def _refused(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    """A request whose parameters cannot be used: the reason, in words (no numbers)."""
    return render(request, "dashboard/briefing_error.html", {"message": exc.message}, status=400)


@login_required
def briefing(request: HttpRequest) -> HttpResponse:
    """The weekly briefing (每周通报) to print: ?week= any day of the week."""
    actor = scope_for(request.user)
    try:
        week = weekly.parse_week(request.GET.get("week", ""))
        data = weekly.briefing(actor=actor, week=week)
    except ValidationFailed as exc:
        return _refused(request, exc)
    return render(request, "dashboard/briefing.html", {"b": data})


@login_required
def briefing_pdf(request: HttpRequest) -> HttpResponse:
    actor = scope_for(request.user)
    try:
        week = weekly.parse_week(request.GET.get("week", ""))
        pdf = services.briefing_export(actor=actor, week=week)
    except ValidationFailed as exc:
        return _refused(request, exc)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="briefing-{week.isoformat()}.pdf"'
    return response


def _panel_query(request: HttpRequest) -> exports.PanelQuery:
    """The API's parameters (since and until as dates, parent, indicator, level, interval)."""
    since, until = selectors.default_period()
    given: dict[str, dt.date] = {}
    for name in ("since", "until"):
        day = dates.parse_day(request.GET.get(name, ""), field=name)
        if day is not None:
            given[name] = day
    return exports.PanelQuery(
        since=given.get("since", since),
        until=given.get("until", until),
        parent=request.GET.get("parent", "").strip(),
        indicator=request.GET.get("indicator", "") or "open",
        level=request.GET.get("level", ""),
        interval=request.GET.get("interval", "") or "day",
    )


@login_required
def panel_xlsx(request: HttpRequest, panel: str) -> HttpResponse:
    """A dashboard panel's numbers as a workbook (/dashboard/<panel>.xlsx)."""
    actor = scope_for(request.user)
    try:
        query = _panel_query(request)
        data = services.panel_export(actor=actor, panel=panel, query=query)
    except ValidationFailed as exc:
        return _refused(request, exc)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="dashboard-{panel}.xlsx"'
    return response
