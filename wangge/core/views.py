from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wangge.core.selectors import audit_list


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


def _date(value: str, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a date, made aware below
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    keys = ("action", "actor", "object_type", "object_id", "outcome", "since", "until")
    filters: dict[str, Any] = {k: request.GET.get(k, "").strip() for k in keys}
    qs = audit_list(
        actor=request.user,
        action=filters["action"],
        actor_name=filters["actor"],
        object_type=filters["object_type"],
        object_id=filters["object_id"],
        outcome=filters["outcome"],
        since=_date(filters["since"]),
        until=_date(filters["until"], end=True),
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "filters": filters,
            "outcomes": ["success", "failure", "denied"],
            "querystring_base": urlencode({k: v for k, v in filters.items() if v})
            + ("&" if any(filters.values()) else ""),
        },
    )
