"""The dashboard's pages: the command centre (/dashboard/), the big screen (/dashboard/screen/)
and the weekly briefing (/dashboard/briefing/). Adapters only: the panels load their numbers
from the API (`dashboard/api.py`), which asks `dashboard.selectors`; what is out of scope is
the same 404 as what does not exist."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.scope import scope_for
from wangge.dashboard import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = selectors.page_context(actor=scope_for(request.user))
    return render(request, "dashboard/home.html", context)


@login_required
def screen(request: HttpRequest) -> HttpResponse:
    context = selectors.page_context(actor=scope_for(request.user))
    return render(request, "dashboard/screen.html", context)
