"""Project-level pages that gather several modules (the start page)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _

from wangge.core.scope import scope_for
from wangge.core.selectors import abilities, my_grants
from wangge.dashboard.selectors import starts_on_dashboard
from wangge.events.selectors import home_counts
from wangge.regions.selectors import region_counts_if_visible, region_names_unscoped


def service_worker(request: HttpRequest) -> HttpResponse:
    """The site's service worker at the root, so that its scope is the whole site (it caches
    the phone's field pages; see templates/sw.js). Public: it holds no data."""
    texts = {
        "title": _("Offline"),
        "body": _(
            "There is no network, and this page was not kept on the phone."
            " These pages open without signal:"
        ),
        "report": _("Report an event"),
        "tasks": _("My tasks"),
        "home": _("Start page"),
    }
    response = render(
        request,
        "sw.js",
        {"texts": json.dumps(texts)},
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every site; send them to the icon among the static files
    (its hashed URL changes with the file, so the redirect is not permanent)."""
    return redirect(static("wangge/favicon.svg"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    on_dashboard = starts_on_dashboard(actor=scope)
    if on_dashboard and request.GET.get("start") != "1":
        # Officers start on the command centre; ?start=1 shows this page (scope and counts).
        return redirect("dashboard:home")
    names = region_names_unscoped()
    grants = [
        g | {"region_name": names.get(g["region_code"], g["region_code"])}
        for g in my_grants(actor=scope)
    ]
    return render(
        request,
        "core/home.html",
        {
            "grants": grants,
            # Grid roles keep this task-first page, with their grid's numbers on it.
            "grid_panel": abilities(actor=scope)["can_view_dashboard"] and not on_dashboard,
            "counts": region_counts_if_visible(actor=scope),
            "events": home_counts(actor=scope)
            if abilities(actor=scope)["can_view_events"]
            else None,
        },
    )
