from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from wangge.core import audit_words, dates, health, metrics, services, tables
from wangge.core.errors import NotFound, WanggeError
from wangge.core.scope import scope_for
from wangge.core.selectors import audit_filter_choices, audit_list, department_names


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


def _day(request: HttpRequest, filters: dict[str, Any], name: str) -> dt.date | None:
    """The filter's date, or None with a form message (the filter is then left out)."""
    try:
        return dates.parse_day(filters[name], field=name)
    except WanggeError as exc:
        messages.error(request, exc.message)
        filters[name] = ""
        return None


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    filters, listed = _audit_filters(request)
    qs = audit_list(actor=request.user, **listed)
    page = tables.page(request, qs)
    entries = list(page)
    links = audit_words.object_links((e.object_type, e.object_id) for e in entries)
    departments = department_names()
    rows = [
        {
            "entry": e,
            "action": audit_words.action_label(e.action, e.details),
            "outcome": audit_words.outcome_label(e.outcome),
            "object_type": audit_words.object_label(e.object_type),
            "object": links.get((e.object_type, e.object_id)),
            "details": audit_words.detail_fields(e.details, departments),
        }
        for e in entries
    ]
    choices = audit_filter_choices(actor=request.user)
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "actions": audit_words.action_choices(choices["actions"]),
            "users": choices["users"],
            "outcomes": [(o, audit_words.outcome_label(o)) for o in audit_words.OUTCOMES],
            "default_sort": "-seq",
            "xlsx_url": reverse("audit_xlsx"),
        },
    )


def _audit_filters(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit page's filters as the form shows them, and as `audit_list` takes them (the
    page and its workbook read the same)."""
    keys = ("action", "actor", "object_type", "object_id", "outcome", "since", "until")
    filters: dict[str, Any] = {k: request.GET.get(k, "").strip() for k in keys}
    since, until = _day(request, filters, "since"), _day(request, filters, "until")
    listed = {
        "action": filters["action"],
        "actor_name": filters["actor"],
        "object_type": filters["object_type"],
        "object_id": filters["object_id"],
        "outcome": filters["outcome"],
        "since": dates.day_start(since) if since else None,
        "until": dates.day_end(until) if until else None,  # the page's "until" includes the day
        "sort": request.GET.get("sort", ""),
    }
    return filters, listed


@login_required
def audit_xlsx(request: HttpRequest) -> HttpResponse:
    """The audit log as the page lists it (filters, sort), as a workbook: every entry, not one
    page (auditors only; services.audit_export limits and audits it)."""
    _filters, listed = _audit_filters(request)
    back = f"{reverse('audit')}?{request.GET.urlencode()}".rstrip("?")
    try:
        data = services.audit_export(actor=request.user, **listed)
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-log.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitors, no login: 200 when healthy, 503 otherwise. Only yes/no
    and numbers (no names, paths or versions): wangge/core/health.py."""
    ok, probes = health.health()
    body = {
        "status": "ok" if ok else "fail",
        "checks": {p.name: {"ok": p.ok, **p.details} for p in probes},
    }
    return JsonResponse(body, status=200 if ok else 503)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; who may read it: `metrics.scrape_refusal`."""
    refused = metrics.scrape_refusal(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded="HTTP_X_FORWARDED_FOR" in request.META,
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
    )
    if refused is not None:
        response = HttpResponse(status=refused, content_type="text/plain; charset=utf-8")
        if refused == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


# Where each list lives, to go back to after saving or deleting one of its filters.
_SAVED_FILTER_PAGES = {"events.inbox": "events:inbox", "ledger.people": "ledger:people"}


@login_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters under a name (core.services decides), back to the list
    with them."""
    list_name = request.POST.get("list", "")
    page = _SAVED_FILTER_PAGES.get(list_name)
    if page is None:
        raise NotFound()
    query = request.POST.get("query", "")
    try:
        saved = services.saved_filter_save(
            actor=scope_for(request.user),
            list_name=list_name,
            name=request.POST.get("name", ""),
            query=query,
        )
    except NotFound:
        raise
    except WanggeError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse(page)}?{query}".rstrip("?"))
    messages.success(request, _("Filter saved as “%(name)s”.") % {"name": saved.name})
    return redirect(f"{reverse(page)}?{saved.query}")


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, filter_id: int) -> HttpResponse:
    list_name = request.POST.get("list", "")
    page = _SAVED_FILTER_PAGES.get(list_name)
    if page is None:
        raise NotFound()
    services.saved_filter_delete(
        actor=scope_for(request.user), list_name=list_name, filter_id=filter_id
    )
    messages.success(request, _("Saved filter deleted."))
    return redirect(page)
